/** Tokens for tests, minted by the dev issuer the gateway publishes. */
import { mintSessionToken } from "../../tools/dev_issuer.ts";
import type { MintOptions } from "../../tools/dev_issuer.ts";
import { CLERK_ISSUER } from "./env.ts";

export function tokenFor(sub: string | undefined, options: Partial<MintOptions> = {}): Promise<string> {
  return mintSessionToken(sub, { issuer: CLERK_ISSUER, ...options });
}

/**
 * A dev-issuer token for `sub` whose `iat` is a day ahead (nbf in the past, so only the iat check
 * refuses it).
 */
export function tokenIssuedInTheFuture(sub: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return tokenFor(sub, { now, issuedAt: now + 86_400, expiresIn: 86_400 + 3_600 });
}

export async function bearer(
  sub: string,
  options: Partial<MintOptions> = {},
): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await tokenFor(sub, options)}` };
}
