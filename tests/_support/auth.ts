/** Tokens for tests, minted by the dev issuer the gateway publishes. */
import { mintSessionToken } from "../../tools/dev_issuer.ts";
import type { MintOptions } from "../../tools/dev_issuer.ts";
import { CLERK_ISSUER } from "./env.ts";

export function tokenFor(sub: string | undefined, options: Partial<MintOptions> = {}): Promise<string> {
  return mintSessionToken(sub, { issuer: CLERK_ISSUER, ...options });
}

export async function bearer(
  sub: string,
  options: Partial<MintOptions> = {},
): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await tokenFor(sub, options)}` };
}
