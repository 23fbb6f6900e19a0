/** The fixed-window rate limit of the privacy function, counted in the database (privacy.take_rate_limit). */
import type { Tx } from "../../_shared/db.ts";

export type RateLimitedAction = "create" | "change" | "read" | "download";

export interface RateLimitResult {
  allowed: boolean;
  hits: number;
  max_hits: number;
  retry_after_seconds: number;
}

/**
 * Counts one call of the caller for `action` and says whether it is within the limit. Meant for a
 * transaction of its own (the middleware's): a call refused later (4xx) still counts, so failing
 * calls are limited too.
 */
export function takeRateLimit(tx: Tx, action: RateLimitedAction) {
  return tx<RateLimitResult[]>`
      select allowed, hits, max_hits, retry_after_seconds from privacy.take_rate_limit(${action})
    `;
}
