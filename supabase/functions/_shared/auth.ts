/**
 * Clerk session-token verification with jose.
 *
 * One remote JWKS per isolate (created with the verifier, never per request). jose caches the key
 * set and refetches it when a token names an unknown `kid` (Clerk key rotation), at most once per
 * cooldown window, so a flood of forged kids cannot turn into a refetch storm.
 *
 * A token we cannot check is not a bad token: when Clerk's key set cannot be fetched (jose's
 * JWKSTimeout, a non-200 answer, unparsable JSON, a refused connection surfacing as fetch's
 * TypeError) the answer is 503 with Retry-After, never 401 (client apps sign their users out on a
 * 401). While the endpoint is down, a key set fetched earlier keeps verifying the tokens it can.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose";
import type { JWTHeaderParameters, JWTPayload, KeyObject } from "jose";
import type { FlattenedJWSInput } from "jose";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./http.ts";
import { HttpError, unauthorized } from "./errors.ts";
import { describeError, log } from "./log.ts";
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

/** Seconds a client should wait before retrying while Clerk's key set is unreachable. */
const KEYS_RETRY_AFTER_SECONDS = 5;
/** After a failed key set fetch, how long known keys are used without trying the endpoint again. */
const KEYS_OUTAGE_BACKOFF_MS = 5_000;

const keysUnavailable = () =>
  new HttpError(503, "Service Unavailable", "the session keys could not be fetched; retry shortly", {
    headers: { "retry-after": String(KEYS_RETRY_AFTER_SECONDS) },
  });

/**
 * Errors of the key lookup that say something about the TOKEN (no key with its kid or alg), as
 * opposed to the key set endpoint being unreachable or broken.
 */
function isTokenKeyError(error: unknown): boolean {
  return error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys;
}

export interface SessionVerifierTuning {
  /** How long one key set fetch may take (ms); jose's JWKSTimeout after that. */
  jwksTimeoutMs?: number;
  /** How long a fetched key set is used before it is fetched again (ms). */
  jwksCacheMaxAgeMs?: number;
}

export function createSessionVerifier(options: SessionVerifierOptions & SessionVerifierTuning) {
  const remote = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: 30_000,
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 10 * 60_000,
    timeoutDuration: options.jwksTimeoutMs ?? 5_000,
  });
  const issuer = options.issuer.replace(/\/+$/, "");
  const clockTolerance = options.clockToleranceSeconds ?? 5;

  /** The last key set fetched, as a local set (rebuilt when jose fetched a new one). */
  let knownKeys: { jwks: object; lookup: ReturnType<typeof createLocalJWKSet> } | undefined;
  function lastKnownKeys() {
    const jwks = remote.jwks();
    if (!jwks) return undefined;
    if (knownKeys?.jwks !== jwks) knownKeys = { jwks, lookup: createLocalJWKSet(jwks) };
    return knownKeys.lookup;
  }
  /** When fetching the key set last failed: for a while after, requests do not wait for it again. */
  let keysFailedAt = Number.NEGATIVE_INFINITY;

  /**
   * The key lookup jwtVerify calls. A failure to reach the key set becomes a 503; when a key set
   * was fetched before (it goes stale after cacheMaxAge and jose then refetches first), that one
   * is used instead, so an outage of Clerk's endpoint does not stop tokens signed with known keys,
   * and for KEYS_OUTAGE_BACKOFF_MS after a failure requests use it without waiting for another
   * fetch to time out.
   */
  async function keys(header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey | KeyObject> {
    const known = lastKnownKeys();
    if (known && Date.now() - keysFailedAt < KEYS_OUTAGE_BACKOFF_MS) {
      try {
        return await known(header, token);
      } catch {
        throw keysUnavailable(); // an unknown kid may be a rotated key we cannot fetch right now
      }
    }
    try {
      return await remote(header, token);
    } catch (error) {
      if (isTokenKeyError(error)) throw error;
      keysFailedAt = Date.now();
      // The 503's own log line says only "unavailable"; this one says why (timeout, status, refused).
      log.warn("session keys unavailable", { jwks_url: options.jwksUrl, ...describeError(error) });
      const fallback = lastKnownKeys();
      if (fallback) {
        try {
          return await fallback(header, token);
        } catch {
          // not among the keys we know: cannot tell without the endpoint
        }
      }
      throw keysUnavailable();
    }
  }

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
    const { payload } = await jwtVerify(token, keys, {
      issuer,
      algorithms: ["RS256"],
      clockTolerance,
      requiredClaims: ["sub", "exp", "iat"],
    });
    // jose checks `iat` only with maxTokenAge; Clerk's SDK refuses a token issued more than the
    // clock skew in the future (assertIssuedAtClaim: iat > now + skew), and so do we.
    if (typeof payload.iat !== "number" || payload.iat > Date.now() / 1000 + clockTolerance) {
      throw unauthorized("the session token was issued in the future");
    }
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
