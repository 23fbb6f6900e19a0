/**
 * Routes that automation may call with a shared secret instead of a staff session: GET /metrics
 * (a Prometheus scrape token) and POST /alerts/dispatch (pg_cron through pg_net). The secret is
 * compared in constant time over sha256 digests (equal length whatever was sent); a request
 * without the secret, or while it is not configured, must be a staff session (401 / 403 as on
 * every admin route).
 */
import type { Context, MiddlewareHandler } from "hono";
import { createHash, timingSafeEqual } from "node:crypto";
import type { SessionEnv } from "../_shared/auth.ts";
import type { Caller } from "../_shared/caller.ts";
import { requireStaff } from "./staff.ts";

/**
 * `caller`: who is calling an operations route, a staff member (kind `user`: RLS and the staff
 * checks apply) or automation (kind `service`); routes run their statements with `queryAs`.
 */
export type OperationsEnv = SessionEnv & { Variables: SessionEnv["Variables"] & { caller: Caller } };

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** Constant-time equality of a presented secret with the configured one. */
export function secretMatches(presented: string | undefined, expected: string | undefined): boolean {
  if (presented === undefined || expected === undefined) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

export function staffOrSecret(options: {
  /** The configured secret; undefined: staff sessions only. */
  secret: string | undefined;
  /** The secret as this route receives it. */
  present: (c: Context<OperationsEnv>) => string | undefined;
  /** The automation's name (log line, audit actor). */
  automation: string;
  requireSession: MiddlewareHandler<SessionEnv>;
}): MiddlewareHandler<OperationsEnv> {
  return async (c, next) => {
    if (options.secret !== undefined && secretMatches(options.present(c), options.secret)) {
      c.set("caller", { kind: "service", actor: options.automation });
      c.set("actor", options.automation);
      return await next();
    }
    // The session middlewares only read and set SessionEnv variables, a subset of OperationsEnv's.
    const session = c as unknown as Context<SessionEnv>;
    await options.requireSession(session, async () => {
      await requireStaff(session, async () => {
        c.set("caller", { kind: "user", claims: c.get("claims") });
        await next();
      });
    });
  };
}

/** The token of `Authorization: Bearer <token>`, if any. */
export function bearerToken(c: Context): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec((c.req.header("authorization") ?? "").trim());
  return match?.[1];
}
