/**
 * Clerk session-token verification with jose.
 *
 * One remote JWKS per isolate (created with the verifier, never per request). jose caches the key
 * set and refetches it when a token names an unknown `kid` (Clerk key rotation), at most once per
 * cooldown window, so a flood of forged kids cannot turn into a refetch storm.
 */
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { JWTPayload } from "jose";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./http.ts";
import { unauthorized } from "./errors.ts";
import type { UserClaims } from "./db.ts";

/** Clerk user ids: `user_` followed by an alphanumeric id. */
export const CLERK_USER_ID = /^user_[A-Za-z0-9]{1,64}$/;

export interface SessionVerifierOptions {
  issuer: string;
  jwksUrl: string;
  /** Allowed `azp` origins; empty disables the check. */
  authorizedParties: string[];
  /** Seconds of clock skew tolerated for exp/nbf/iat. */
  clockToleranceSeconds?: number;
}

export interface SessionClaims extends UserClaims, JWTPayload {
  sub: string;
}

export type SessionEnv = AppEnv & { Variables: AppEnv["Variables"] & { claims: SessionClaims } };

export function createSessionVerifier(options: SessionVerifierOptions) {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
    timeoutDuration: 5_000,
  });
  const issuer = options.issuer.replace(/\/+$/, "");

  /**
   * Tokens already verified, until they expire. Clerk session tokens live about a minute and a
   * client sends the same one with every request meanwhile, so most requests skip the RSA check
   * (a third of the gateway's CPU per request otherwise). Keyed by the whole token, signature
   * included, so nothing unverified can hit the cache; bounded, oldest entries evicted first.
   */
  const verified = new Map<string, SessionClaims>();
  const MAX_CACHED_TOKENS = 10_000;

  async function verify(token: string): Promise<SessionClaims> {
    const cached = verified.get(token);
    if (cached && typeof cached.exp === "number" && cached.exp * 1000 > Date.now()) return cached;
    if (cached) verified.delete(token);
    const claims = await verifyToken(token);
    if (verified.size >= MAX_CACHED_TOKENS) verified.delete(verified.keys().next().value!);
    verified.set(token, claims);
    return claims;
  }

  /** Verifies a Clerk session token; throws (mapped to 401) when anything is off. */
  async function verifyToken(token: string): Promise<SessionClaims> {
    const { payload } = await jwtVerify(token, jwks, {
      issuer,
      algorithms: ["RS256"],
      clockTolerance: options.clockToleranceSeconds ?? 5,
      requiredClaims: ["sub", "exp", "iat"],
    });
    if (typeof payload.sub !== "string" || !CLERK_USER_ID.test(payload.sub)) {
      throw unauthorized("the session token has no valid subject");
    }
    // Clerk sets `azp` to the origin the token was minted for; like Clerk's own SDK, a token
    // without `azp` (native apps, server calls) passes, one naming another origin does not.
    if (options.authorizedParties.length > 0 && payload.azp !== undefined) {
      if (typeof payload.azp !== "string" || !options.authorizedParties.includes(payload.azp)) {
        throw unauthorized("the session token was issued for another origin");
      }
    }
    return payload as SessionClaims;
  }

  /** Middleware: a valid `Authorization: Bearer <Clerk session token>` or 401. */
  const requireSession: MiddlewareHandler<SessionEnv> = async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i.exec(header.trim());
    if (!match) throw unauthorized();
    const claims = await verify(match[1]);
    c.set("claims", claims);
    c.set("actor", claims.sub);
    await next();
  };

  return { verify, requireSession };
}

/** The verifier for the validated ClerkSessionSettings (config.ts); the JWKS URL defaults to Clerk's. */
export function sessionVerifierFrom(settings: {
  CLERK_ISSUER: string;
  CLERK_JWKS_URL?: string;
  CLERK_AUTHORIZED_PARTIES: string[];
}) {
  return createSessionVerifier({
    issuer: settings.CLERK_ISSUER,
    jwksUrl: settings.CLERK_JWKS_URL ?? `${settings.CLERK_ISSUER.replace(/\/+$/, "")}/.well-known/jwks.json`,
    authorizedParties: settings.CLERK_AUTHORIZED_PARTIES,
  });
}
