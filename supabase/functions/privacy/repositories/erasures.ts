/**
 * SQL of the erasure runner: due erasures (privacy.run_due_erasures, the same body as the
 * run-due-erasures cron job) and the Clerk deletion bookkeeping. Admins and automation only; the
 * database checks it (P0001 http:403).
 */
import type { JsonObject } from "../../_shared/db.ts";
import { type Caller, queryAs } from "./caller.ts";

export async function runDueErasures(caller: Caller, maxRequests?: number): Promise<JsonObject> {
  const [row] = await queryAs(
    caller,
    (tx) => tx`select privacy.run_due_erasures(${maxRequests ?? null}::integer) as result`,
  );
  return row.result as JsonObject;
}

export interface PendingClerkDeletion {
  request_id: string;
  subject_user_id: string;
}

export function pendingClerkDeletions(caller: Caller, limit: number) {
  return queryAs(caller, (tx) =>
    tx<PendingClerkDeletion[]>`
      select request_id, subject_user_id from privacy.pending_clerk_deletions(${limit}::integer)
    `);
}

export async function recordClerkDeletion(
  caller: Caller,
  requestId: string,
  done: boolean,
  httpStatus: number,
): Promise<void> {
  await queryAs(
    caller,
    (tx) => tx`select privacy.record_clerk_deletion(${requestId}::uuid, ${done}, ${httpStatus}::integer)`,
  );
}
