/**
 * Operational signals counted in memory per isolate and flushed to the database, where they
 * survive the isolate (docs/OPERATIONS.md, "Signals"):
 *   - requests per function and status class (2xx, 3xx, 401, 403, 429, 4xx, 5xx), counted by the
 *     one access-log point of _shared/http.ts: `countRequest` is a Map increment, nothing more;
 *   - webhook outcomes the receiver could not record in its own statement (`failed`: the
 *     database refused or was away), counted by `countWebhookOutcome`.
 * Counts are kept per minute (the bucket they happened in) and flushed every FLUSH_INTERVAL_MS in
 * one statement of at most MAX_BATCH label sets. A failed flush puts its counts back; while the
 * database is away at most MAX_KEYS label sets are held and any beyond are dropped (and said so
 * in the log), so memory stays bounded. Nothing personal: a function name, a class, an outcome.
 * The flush timer is unref'd: it never keeps a process alive.
 */
import { describeError, log } from "./log.ts";
import { recordSignals } from "./repositories/signals.ts";

export const FLUSH_INTERVAL_MS = 10_000;
/** Label sets per flush statement (private.record_http_requests accepts 500). */
export const MAX_BATCH = 500;
/** Label sets held while flushes fail. */
export const MAX_KEYS = 5_000;

export type StatusClass = "2xx" | "3xx" | "401" | "403" | "429" | "4xx" | "5xx";

/** Disjoint classes: 401, 403 and 429 apart (auth failures, refusals, rate limits), every other 4xx as 4xx. */
export function statusClass(status: number): StatusClass {
  if (status >= 500) return "5xx";
  if (status === 401 || status === 403 || status === 429) return String(status) as StatusClass;
  if (status >= 400) return "4xx";
  if (status >= 300) return "3xx";
  return "2xx";
}

const requests = new Map<string, number>();
const outcomes = new Map<string, number>();
let minuteStart = 0;
let minuteIso = "";
let timer: ReturnType<typeof setTimeout> | undefined;
let flushing: Promise<void> | undefined;
let dropped = 0;

function currentMinute(): string {
  const now = Date.now();
  if (now - minuteStart >= 60_000 || now < minuteStart) {
    minuteStart = now - (now % 60_000);
    minuteIso = new Date(minuteStart).toISOString();
  }
  return minuteIso;
}

function add(map: Map<string, number>, key: string, count: number): void {
  const held = map.get(key);
  if (held !== undefined) map.set(key, held + count);
  else if (requests.size + outcomes.size < MAX_KEYS) map.set(key, count);
  else dropped += count;
}

function schedule(): void {
  if (timer !== undefined || flushing) return;
  const id = setTimeout(() => {
    timer = undefined;
    void flushSignals();
  }, FLUSH_INTERVAL_MS);
  Deno.unrefTimer?.(id);
  timer = id;
}

/** One request answered: the hot-path hook of _shared/http.ts (a Map increment). */
export function countRequest(functionName: string, status: number): void {
  add(requests, `${currentMinute()}|${functionName}|${statusClass(status)}`, 1);
  schedule();
}

/** A webhook outcome the receiver could not store in its own statement (e.g. `failed`). */
export function countWebhookOutcome(outcome: string): void {
  add(outcomes, outcome, 1);
  schedule();
}

/** What is held and not yet flushed (tests, diagnosis). */
export function pendingSignals() {
  return { requests: requests.size, outcomes: outcomes.size, dropped };
}

/**
 * Writes up to MAX_BATCH held label sets (and all outcome counts) in one statement. Resolves
 * when done; never rejects (a failure keeps the counts for the next flush). Concurrent calls
 * share one flush.
 */
export function flushSignals(): Promise<void> {
  if (flushing) return flushing;
  if (timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
  }
  if (requests.size === 0 && outcomes.size === 0) return Promise.resolve();
  const requestBatch: { key: string; count: number }[] = [];
  for (const [key, count] of requests) {
    if (requestBatch.length >= MAX_BATCH) break;
    requestBatch.push({ key, count });
  }
  for (const { key } of requestBatch) requests.delete(key);
  const outcomeBatch = [...outcomes].slice(0, MAX_BATCH);
  for (const [key] of outcomeBatch) outcomes.delete(key);
  const lost = dropped;
  dropped = 0;

  flushing = (async () => {
    try {
      await recordSignals(
        requestBatch.map(({ key, count }) => {
          const [bucket, function_name, status_class] = key.split("|");
          return { bucket, function_name, status_class, requests: count };
        }),
        outcomeBatch.map(([outcome, deliveries]) => ({ outcome, deliveries })),
      );
      if (lost > 0) log.warn("signals dropped while the database was unavailable", { dropped: lost });
    } catch (error) {
      for (const { key, count } of requestBatch) add(requests, key, count);
      for (const [key, count] of outcomeBatch) add(outcomes, key, count);
      dropped += lost;
      log.warn("signals flush failed; counts kept for the next flush", describeError(error));
    } finally {
      flushing = undefined;
      if (requests.size > 0 || outcomes.size > 0) schedule();
    }
  })();
  return flushing;
}
