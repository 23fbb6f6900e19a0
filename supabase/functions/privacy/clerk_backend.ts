/**
 * The one call this backend makes to Clerk's Backend API: deleting a user after their erasure.
 * `DELETE {CLERK_API_URL}/v1/users/{user_id}` with `Authorization: Bearer <CLERK_SECRET_KEY>`.
 * 200: deleted; 404: already gone (counts as done, so the step is idempotent); anything else
 * (401, 429, 5xx, network, timeout): not done, retried by the next run.
 */
import { CLERK_USER_ID } from "../_shared/auth.ts";

export interface ClerkBackendOptions {
  secretKey: string;
  apiUrl: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface ClerkDeletion {
  /** True when Clerk no longer has the user (deleted now, or already gone). */
  done: boolean;
  /** HTTP status from Clerk; 0 when no answer arrived (network error, timeout). */
  status: number;
}

export function createClerkBackend(options: ClerkBackendOptions) {
  const base = options.apiUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;

  async function deleteUser(userId: string): Promise<ClerkDeletion> {
    if (!CLERK_USER_ID.test(userId)) throw new Error("not a Clerk user id");
    try {
      const response = await doFetch(`${base}/v1/users/${encodeURIComponent(userId)}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${options.secretKey}`, accept: "application/json" },
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      await response.body?.cancel();
      return { done: response.ok || response.status === 404, status: response.status };
    } catch {
      return { done: false, status: 0 };
    }
  }

  return { deleteUser };
}

export type ClerkBackend = ReturnType<typeof createClerkBackend>;
