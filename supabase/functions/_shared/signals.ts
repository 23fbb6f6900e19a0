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
  return CLASSES[classIndex(status)];
}

/** Held counts by `<minute>|<function>|<class>` (folded from `current`) and by outcome. */
const requests = new Map<string, number>();
const outcomes = new Map<string, number>();
const CLASSES: readonly StatusClass[] = ["2xx", "3xx", "401", "403", "429", "4xx", "5xx"];
/** The minute being counted: per function, one counter per class (the hot path touches only this). */
let current = new Map<string, number[]>();
let minuteStart = 0;
let minuteEnd = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let flushing: Promise<void> | undefined;
let dropped = 0;

function classIndex(status: number): number {
  if (status >= 500) return 6;
  if (status >= 400) return status === 401 ? 2 : status === 403 ? 3 : status === 429 ? 4 : 5;
  return status >= 300 ? 1 : 0;
}

function add(map: Map<string, number>, key: string, count: number): void {
  const held = map.get(key);
  if (held !== undefined) map.set(key, held + count);
  else if (requests.size + outcomes.size < MAX_KEYS) map.set(key, count);
  else dropped += count;
}

/** Moves the current minute's counters into `requests` (keyed by minute) and starts afresh. */
function foldCurrent(): void {
  if (current.size === 0) return;
  const minute = new Date(minuteStart).toISOString();
  for (const [functionName, counts] of current) {
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] > 0) add(requests, `${minute}|${functionName}|${CLASSES[i]}`, counts[i]);
    }
  }
  current = new Map();
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

/** One request answered: the hot-path hook of _shared/http.ts (an array increment). */
export function countRequest(functionName: string, status: number): void {
  const now = Date.now();
  if (now >= minuteEnd || now < minuteStart) {
    foldCurrent();
    minuteStart = now - (now % 60_000);
    minuteEnd = minuteStart + 60_000;
  }
  let counts = current.get(functionName);
  if (counts === undefined) {
    counts = [0, 0, 0, 0, 0, 0, 0];
    current.set(functionName, counts);
  }
  counts[classIndex(status)]++;
  if (timer === undefined) schedule();
}

/** A webhook outcome the receiver could not store in its own statement (e.g. `failed`). */
export function countWebhookOutcome(outcome: string): void {
  add(outcomes, outcome, 1);
  schedule();
}

/** What is held and not yet flushed (tests, diagnosis). */
export function pendingSignals() {
  let counting = 0;
  for (const counts of current.values()) counting += counts.filter((n) => n > 0).length;
  return { requests: requests.size + counting, outcomes: outcomes.size, dropped };
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
  foldCurrent();
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
