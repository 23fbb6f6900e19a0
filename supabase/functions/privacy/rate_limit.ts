/**
 * Middleware: per-actor rate limits, counted in the database (privacy.take_rate_limit, limits in
 * ops.settings dsar_rate_*), so every isolate of the function counts the same window. Over the
 * limit: 429 with Retry-After (seconds until the window ends). Runs after requireSession.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { SessionEnv } from "../_shared/auth.ts";
import { HttpError } from "../_shared/errors.ts";
import { type Caller, queryAs } from "../_shared/caller.ts";
import { type RateLimitedAction, takeRateLimit } from "./repositories/rate_limits.ts";

/** The signed-in caller of a request (after requireSession). */
export function userCaller(c: Context<SessionEnv>): Caller {
  return { kind: "user", claims: c.get("claims") };
}

export function rateLimit(action: RateLimitedAction): MiddlewareHandler<SessionEnv> {
  return async (c, next) => {
    // Its own transaction, committed before the route runs: a refused call still counts.
    const [result] = await queryAs(userCaller(c), (tx) => takeRateLimit(tx, action));
    const remaining = Math.max(0, result.max_hits - result.hits);
    if (!result.allowed) {
      throw new HttpError(
        429,
        "Too Many Requests",
        `at most ${result.max_hits} ${action} calls per window; retry in ${result.retry_after_seconds} s`,
        {
          headers: {
            "retry-after": String(result.retry_after_seconds),
            "ratelimit-limit": String(result.max_hits),
            "ratelimit-remaining": "0",
            "ratelimit-reset": String(result.retry_after_seconds),
          },
        },
      );
    }
    c.header("ratelimit-limit", String(result.max_hits));
    c.header("ratelimit-remaining", String(remaining));
    c.header("ratelimit-reset", String(result.retry_after_seconds));
    await next();
  };
}
