/**
 * Database access: one postgres.js pool per isolate, and the two ways to use it.
 *
 * - `withUser` / `queryAsUser`: a transaction that first sets `role = authenticated` and
 *   `request.jwt.claims` (the shape PostgREST uses), so row-level security decides every read and
 *   write exactly as it would for supabase-js. Statements are pipelined on a reserved connection:
 *   `begin`, the context, the query and `commit` leave together and cost about one round trip.
 * - `withServiceRole`: automation only (webhooks, jobs). Runs as `service_role`, which bypasses
 *   RLS. Never call it with input a user controls unless that input was authenticated otherwise.
 *
 * Connection lifecycle (docs/ARCHITECTURE.md, "What a caller sees during an outage"). postgres.js
 * 3.4.9 has three ways to wedge a pool when the database restarts or kills a backend, each read in
 * its source (src/index.js, src/connection.js):
 *   1. A query issued on a reserved connection after its socket closed is buffered and written from
 *      a `setImmediate` to `socket`, which `closed()` set to null: an uncaught `TypeError: Cannot read
 *      properties of null (reading 'write')`, a promise that never settles, and a stale write buffer
 *      that keeps the Connection object from flushing its next start-up message.
 *   2. `release()` of a reserved connection that closed puts the dead Connection into the `open`
 *      queue; every later query sent to it hangs the same way. If the Connection was reconnected for
 *      another caller meanwhile, `release()` takes it from under them.
 *   3. A `reserve()` that fails to connect is rejected but stays in the pool's queue; a later
 *      `onopen` hands a connection to that dead request and the connection is lost, idle in
 *      ClientRead on the server, until `max_lifetime`. A queued reserve can also be dropped for good
 *      (porsager/postgres#1195).
 * So each transaction runs on a Lease that
 *   - learns its Connection object (`onexecute` of `begin`) and admits a query only while the
 *     connection is still reserved by this lease, so nothing is ever written after a close;
 *   - releases the connection only when the transaction is known to have ended (commit or rollback
 *     answered) on a connection still reserved by it; otherwise it terminates the connection;
 *   - races everything against a deadline (DB_REQUEST_DEADLINE_MS): on expiry the caller gets a 503
 *     and the connection is terminated, never returned;
 * and a pool that misbehaved once (failed reserve, lost or unidentified connection, deadline,
 * uncaught driver error) is retired: ended with a grace period, then destroyed, which rejects
 * whatever it still holds, while a fresh pool serves new requests. After a failed connect, one
 * transaction at a time tries again and the others are refused at once (503) until one connects.
 */
import postgres from "postgres";
import { timestamptzAsText } from "./timestamps.ts";
import { currentRequestId } from "./request_context.ts";
import { resolveDatabaseSettings } from "./config.ts";
import type { PoolerMode } from "./config.ts";
import { log } from "./log.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.ReservedSql;
export type Row = postgres.Row;
export type { PoolerMode };

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  /** postgres.js named prepared statements. */
  prepare: boolean;
  statementTimeoutMs: number;
  /** What sits in front of Postgres (default `none`): timeouts are per transaction behind `transaction`. */
  pooler?: PoolerMode;
  /** Longest one transaction may take, waiting for a connection included (default: statement timeout + 3 s). */
  requestDeadlineMs?: number;
  /** Serve the pool counters at GET /<function>/_db/stats (_shared/http.ts). */
  debugStats?: boolean;
  /** postgres.js `debug` hook: every statement as it is built (benchmarks capture the SQL with it). */
  debug?: postgres.Options<Record<string, postgres.PostgresType>>["debug"];
}

/**
 * A transaction left open by a crashed or stuck isolate releases its locks after this long.
 * Our transactions are pipelined and last milliseconds; 15 s is far beyond any legitimate one.
 */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 15_000;
/** What the deadline adds to a statement timeout a transaction sets for itself. */
const DEADLINE_MARGIN_MS = 3_000;

/** The error of a transaction refused or cut short by this module (mapped to 503 in errors.ts). */
export class DatabaseUnavailableError extends Error {
  constructor(readonly code: "DB_UNAVAILABLE" | "DB_DEADLINE_EXCEEDED", message: string) {
    super(message);
    this.name = "DatabaseUnavailableError";
  }
}

const deadlineError = (what: string) =>
  new DatabaseUnavailableError("DB_DEADLINE_EXCEEDED", `the database did not answer in time (${what})`);
const lostError = () =>
  new DatabaseUnavailableError("DB_UNAVAILABLE", "the database connection was lost during the transaction");

/** Errors after which the connection cannot be trusted to carry another statement. */
function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== "string") return false;
  return [
    "DB_UNAVAILABLE",
    "DB_DEADLINE_EXCEEDED",
    "CONNECTION_CLOSED",
    "CONNECTION_DESTROYED",
    "CONNECTION_ENDED",
    "CONNECT_TIMEOUT",
    "ECONNRESET",
    "ECONNREFUSED",
    "EPIPE",
    "ETIMEDOUT",
  ].includes(code) || /^(08|57P0)/.test(code);
}

// --- Internals of postgres.js 3.4.9 this module relies on (src/query.js, src/connection.js) --------
/** A Query: `handler` is called once, on a microtask after the query is first awaited or executed. */
interface QueryInternals {
  handler: (query: QueryInternals) => void;
  reject: (error: unknown) => void;
}
/** A Connection: `reserved` is the reservation's callback while reserved, null once released or closed. */
interface ConnectionInternals {
  id: number;
  reserved: unknown;
  terminate(): void;
}

// --- Counters -------------------------------------------------------------------------------
const stats = {
  /** Transactions holding or waiting for a connection right now. */
  leases_active: 0,
  /** Connections reserved by leases right now (back to 0 when nothing runs). */
  connections_held: 0,
  /** Transactions waiting for a free slot of the pool. */
  waiting: 0,
  transactions: 0,
  released: 0,
  terminated: 0,
  connections_lost: 0,
  deadlines_expired: 0,
  connect_failures: 0,
  refused_while_away: 0,
  late_reservations_released: 0,
  pools_created: 0,
  pools_retired: 0,
  driver_faults_contained: 0,
};

// --- Configuration and pool generations -------------------------------------------------------
interface Generation {
  id: number;
  sql: Sql;
  retired: boolean;
}

let options: Required<DatabaseOptions> | undefined;
let current: Generation | undefined;
let generations = 0;
let slots: Slots | undefined;
/**
 * After a failed connect the database counts as away: one transaction at a time tries to connect
 * (the trial), every other is refused at once with a 503 instead of queueing or opening more
 * connections against a database that is not there. The trial that connects ends it, so the first
 * request after the database is back is served.
 */
const away = { since: 0, trialInFlight: false };

/** Configures the isolate's pool. Called once by each function's entry point. */
export function configureDatabase(opts: DatabaseOptions): void {
  if (current && options && options.url !== opts.url) {
    throw new Error("the database is already configured with another URL");
  }
  options = {
    pooler: "none",
    requestDeadlineMs: opts.statementTimeoutMs + DEADLINE_MARGIN_MS,
    debugStats: false,
    debug: false,
    ...opts,
  };
  if (!slots || slots.size !== options.poolSize) slots = new Slots(options.poolSize);
}

function createGeneration(opts: Required<DatabaseOptions>): Generation {
  // On a direct or session-pooled connection the timeouts are set once per connection (a session
  // setting survives SET ROLE). Behind a transaction pooler a server connection is shared between
  // clients and startup parameters are not per client, so they are set per transaction instead
  // (see perTransactionTimeouts).
  const connection: Record<string, string | number> = { application_name: "edge-functions" };
  if (opts.pooler !== "transaction") {
    connection.statement_timeout = opts.statementTimeoutMs;
    connection.idle_in_transaction_session_timeout = IDLE_IN_TRANSACTION_TIMEOUT_MS;
  }
  const sql = postgres(opts.url, {
    max: opts.poolSize,
    prepare: opts.prepare,
    // Fail fast when the database is unreachable so callers get a quick 503 to retry.
    connect_timeout: 3,
    idle_timeout: 30,
    max_lifetime: 60 * 30,
    // postgres.js waits up to 20 s between reconnects after repeated failures; a pool is replaced
    // after a failed connect anyway, so keep its own pauses short (seconds, as postgres.js expects).
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    onnotice: () => {},
    connection,
    debug: opts.debug,
    // timestamptz as ISO strings, never a Date (timestamps.ts says why).
    types: { timestamptz: timestamptzAsText },
  });
  stats.pools_created++;
  return { id: ++generations, sql, retired: false };
}

function currentGeneration(): Generation {
  if (!options) throw new Error("configureDatabase() was not called");
  return current ??= createGeneration(options);
}

/**
 * Takes a pool out of service: new transactions get a fresh pool; this one is ended (idle connections
 * close now, leases still running finish within their deadline) and then destroyed, which terminates
 * every connection and rejects whatever postgres.js still queues.
 */
function retire(generation: Generation, reason: string): void {
  if (generation.retired) return;
  generation.retired = true;
  stats.pools_retired++;
  if (current === generation) current = undefined;
  log.warn("database pool replaced", { reason, pool: generation.id });
  const graceSeconds = Math.ceil((options!.requestDeadlineMs + 1_000) / 1_000);
  generation.sql.end({ timeout: graceSeconds }).catch(() => {});
}

/** The isolate's current pool, created on first use (never per request). Tools and benchmarks only. */
export function database(): Sql {
  return currentGeneration().sql;
}

/**
 * Ends the current pool (tools and tests; a function's pool lives as long as its isolate). The next
 * transaction opens a fresh one.
 */
export async function closeDatabase(): Promise<void> {
  const generation = current;
  if (!generation) return;
  generation.retired = true;
  current = undefined;
  await generation.sql.end({ timeout: 5 });
}

/**
 * Whether an uncaught error was thrown inside postgres.js (its source files are in the stack). The
 * process guards (_shared/http.ts) contain such an error by replacing the pool; see
 * `replaceDatabasePool`.
 */
export function isDatabaseDriverError(error: unknown): boolean {
  const stack = error instanceof Error ? error.stack ?? "" : "";
  return /[\\/]postgres[\\/](?:[\d.]+[\\/])?(?:cjs[\\/]|cf[\\/])?src[\\/][a-z]+\.js/.test(stack);
}

/** Retires the current pool after an error inside the driver left its state unknown. */
export function replaceDatabasePool(reason: string): void {
  stats.driver_faults_contained++;
  if (current) retire(current, reason);
}

/** Counters of the connection lifecycle (GET /<function>/_db/stats when DB_DEBUG_STATS=true). */
export function databaseStats() {
  return {
    ...stats,
    pool: current?.id ?? null,
    pool_size: options?.poolSize ?? null,
    database_away_since: away.since ? new Date(away.since).toISOString() : null,
  };
}

export function databaseDebugStatsEnabled(): boolean {
  return options?.debugStats ?? false;
}

// --- Fast refusal while the database is away ------------------------------------------------
/** Returns whether this transaction is the trial; throws (503) when another trial is under way. */
function admitWhileAway(): boolean {
  if (!away.since) return false;
  if (away.trialInFlight) {
    stats.refused_while_away++;
    throw new DatabaseUnavailableError("DB_UNAVAILABLE", "the database is unavailable; retry shortly");
  }
  away.trialInFlight = true;
  return true;
}

// --- Slots: at most poolSize transactions hold or wait for a postgres.js connection ------------
/**
 * Keeps reserve() calls within the pool size, so postgres.js never queues one (its queued reserves are
 * where requests get stranded, see the header), and lets a waiting caller give up at its deadline.
 */
class Slots {
  #free: number;
  #waiters: Array<{ grant: (release: () => void) => void; timer: ReturnType<typeof setTimeout> }> = [];

  constructor(readonly size: number) {
    this.#free = size;
  }

  acquire(deadlineAt: number): Promise<() => void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#releaser());
    }
    stats.waiting++;
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: (release: () => void) => {
          stats.waiting--;
          clearTimeout(waiter.timer);
          resolve(release);
        },
        timer: setTimeout(() => {
          stats.waiting--;
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          stats.deadlines_expired++;
          reject(deadlineError("waiting for a free connection"));
        }, Math.max(0, deadlineAt - Date.now())),
      };
      this.#waiters.push(waiter);
    });
  }

  #releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#waiters.shift();
      if (next) next.grant(this.#releaser());
      else this.#free++;
    };
  }
}

// --- Lease: one transaction on one reserved connection ---------------------------------------
class Lease {
  #generation: Generation;
  #deadlineAt: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #expire: (error: Error) => void = () => {};
  #expired = false;
  #tx: Tx | undefined;
  #connection: ConnectionInternals | undefined;
  #reservation: unknown;
  #ended = false;
  #lost = false;
  #admitted = 0;
  /** The transaction is known to be over (commit or rollback answered): the connection is idle. */
  #clean = false;

  constructor(generation: Generation, deadlineMs: number) {
    this.#generation = generation;
    this.#deadlineAt = Date.now() + deadlineMs;
  }

  async run<T>(work: (lease: Lease, tx: Tx) => Promise<T>): Promise<T> {
    const expired = new Promise<never>((_, reject) => (this.#expire = reject));
    expired.catch(() => {});
    this.#arm();
    try {
      const tx = await this.#reserve(expired);
      return await Promise.race([work(this, this.#guard(tx)), expired]);
    } finally {
      clearTimeout(this.#timer);
      this.#dispose();
    }
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#expired = true;
      stats.deadlines_expired++;
      this.#expire(deadlineError(this.#tx ? "transaction" : "connecting"));
    }, Math.max(0, this.#deadlineAt - Date.now()));
  }

  async #reserve(expired: Promise<never>): Promise<Tx> {
    const pending = this.#generation.sql.reserve();
    try {
      this.#tx = await Promise.race([pending, expired]);
      stats.connections_held++;
      away.since = 0; // connected: the database is back
      return this.#tx;
    } catch (error) {
      if (this.#expired) {
        // reserve() cannot be cancelled: give the connection back whenever it arrives.
        pending.then((late) => {
          stats.late_reservations_released++;
          late.release();
        }, () => {});
        retire(this.#generation, "no connection within the deadline");
        away.since ||= Date.now();
      } else {
        // The failed request stays in postgres.js's queue and would swallow a connection later.
        stats.connect_failures++;
        retire(this.#generation, "connect failed");
        if (isConnectionLoss(error) || /^53/.test(String((error as { code?: unknown }).code))) {
          away.since ||= Date.now();
        }
      }
      throw error;
    }
  }

  /** `begin`, executed at once so it is the first statement on the wire; it identifies the connection. */
  begin(tx: Tx): postgres.PendingQuery<Row[]> {
    const onexecute = (connection: ConnectionInternals) => {
      this.#connection = connection;
      this.#reservation = connection.reserved;
      return true; // not full: later statements may be pipelined behind it
    };
    return (tx.unsafe as (q: string, p: unknown[], o: unknown) => postgres.PendingQuery<Row[]>)(
      "begin",
      [],
      { onexecute },
    ).execute();
  }

  /** The transaction ended with an answer from the server (commit or rollback). */
  settled(): void {
    this.#clean = true;
  }

  /** Whether a rollback may be sent: the connection is still ours and alive. */
  usable(): boolean {
    return !this.#ended && !this.#lost && this.#owns();
  }

  /** The connection is identified and still reserved by this lease (not closed, released or reused). */
  #owns(): boolean {
    return this.#connection !== undefined && this.#connection.reserved === this.#reservation;
  }

  /**
   * The reserved sql as the body sees it: every query it creates passes `#admit` right before it is
   * handed to the connection, so none reaches a connection this lease no longer holds.
   */
  #guard(tx: Tx): Tx {
    const wrap = (query: unknown) => {
      const q = query as QueryInternals;
      if (query instanceof Promise && typeof q.handler === "function") {
        const handler = q.handler;
        q.handler = (self) => this.#admit() ? handler(self) : self.reject(lostError());
      }
      return query;
    };
    return new Proxy(tx, {
      apply: (target, thisArg, args) => wrap(Reflect.apply(target, thisArg, args)),
      get: (target, property, receiver) => {
        if (property === "unsafe" || property === "file") {
          const method = Reflect.get(target, property, receiver) as (...args: unknown[]) => unknown;
          return (...args: unknown[]) => wrap(method.apply(target, args));
        }
        if (property === "release") {
          return () => {
            throw new Error("the connection is released by _shared/db.ts, not by the transaction body");
          };
        }
        return Reflect.get(target, property, receiver);
      },
    }) as Tx;
  }

  #admit(): boolean {
    if (this.#ended || this.#lost) return false;
    // The first query is `begin`, which identifies the connection as it is executed; every later one
    // needs the connection identified and still ours.
    if (this.#admitted++ > 0 && !this.#owns()) {
      this.#lost = true;
      return false;
    }
    return true;
  }

  /** Hands the connection back only when that is provably safe; otherwise destroys it. */
  #dispose(): void {
    this.#ended = true;
    const tx = this.#tx;
    if (!tx) return;
    stats.connections_held--;
    const connection = this.#connection;
    if (!connection) {
      // Never identified (begin was not executed): it cannot be released safely; the retired pool's
      // destroy terminates it.
      retire(this.#generation, "unidentified connection");
      return;
    }
    if (connection.reserved !== this.#reservation) {
      // Closed under us (and perhaps reconnected for someone else): never touch it again.
      stats.connections_lost++;
      retire(this.#generation, "connection lost during a transaction");
      return;
    }
    if (this.#clean && !this.#generation.retired) {
      tx.release();
      stats.released++;
      return;
    }
    // Ours but in an unknown state (deadline, a statement or rollback that never answered), or its
    // pool is being retired: terminate it, which also rejects whatever it still has in flight.
    connection.terminate();
    stats.terminated++;
    if (!this.#clean) {
      retire(this.#generation, this.#expired ? "deadline expired" : "transaction state unknown");
    }
  }
}

async function withLease<T>(
  work: (lease: Lease, tx: Tx) => Promise<T>,
  context?: RequestContext,
): Promise<T> {
  if (!options || !slots) throw new Error("configureDatabase() was not called");
  const trial = admitWhileAway();
  // A transaction that raises its own statement timeout gets a deadline beyond it: the deadline is
  // for what the server cannot time out, never shorter than the server's own limit.
  const deadlineMs = Math.max(
    options.requestDeadlineMs,
    (context?.statementTimeoutMs ?? 0) + DEADLINE_MARGIN_MS,
  );
  const startedAt = Date.now();
  stats.leases_active++;
  stats.transactions++;
  try {
    const releaseSlot = await slots.acquire(startedAt + deadlineMs);
    try {
      const lease = new Lease(currentGeneration(), deadlineMs - (Date.now() - startedAt));
      return await lease.run(work);
    } finally {
      releaseSlot();
    }
  } finally {
    stats.leases_active--;
    if (trial) away.trialInFlight = false;
  }
}

type Statement = postgres.PendingQuery<Row[]>;

/**
 * One transaction: begin and the context go out first, then the body's statements; with
 * `commitPipelined` (a single statement) the commit is written right behind it, one round trip.
 */
function transaction<T>(
  setContext: (tx: Tx) => Statement | undefined,
  body: (tx: Tx) => Promise<T>,
  context?: RequestContext,
): Promise<T> {
  return withLease(async (lease, tx) => {
    // Not awaited one by one: postgres.js writes them to the socket back to back (pipelining).
    // Executed before the body runs, so they are on the wire before any statement of the body.
    const begin = lease.begin(tx);
    const context = setContext(tx)?.execute();
    const result = body(tx);
    // Mark as handled; the same rejections are surfaced by the awaits below, in order.
    for (const pending of [begin, context, result]) pending?.catch(() => {});
    try {
      await begin;
      await context;
      const value = await result;
      await tx.unsafe("commit");
      lease.settled();
      return value;
    } catch (error) {
      await rollback(lease, tx, error);
      throw error;
    }
  }, context);
}

/** begin, context, one statement and commit, written together: about one round trip. */
function singleStatement<T extends readonly Row[]>(
  setContext: (tx: Tx) => Statement | undefined,
  statement: (tx: Tx) => postgres.PendingQuery<T>,
): Promise<T> {
  return withLease(async (lease, tx) => {
    const begin = lease.begin(tx);
    const context = setContext(tx)?.execute();
    const query = statement(tx).execute();
    const commit = tx.unsafe("commit").execute();
    for (const pending of [begin, context, query, commit]) pending?.catch(() => {});
    try {
      await begin;
      await context;
      const rows = await query;
      await commit;
      lease.settled();
      return rows;
    } catch (error) {
      await rollback(lease, tx, error);
      throw error;
    }
  });
}

/** After a failed statement on a healthy connection, end the transaction so the connection is reusable. */
async function rollback(lease: Lease, tx: Tx, error: unknown): Promise<void> {
  if (isConnectionLoss(error) || !lease.usable()) return;
  try {
    await tx.unsafe("rollback");
    lease.settled();
  } catch {
    // Not settled: the lease terminates the connection instead of releasing it.
  }
}

/** Claims as they reach Postgres in `request.jwt.claims`. */
export interface UserClaims {
  sub: string;
  [claim: string]: unknown;
}

/**
 * Request context carried into the transaction: the audit log records `request.id`
 * (audit.append). Defaults to the id of the HTTP request being served (request_context.ts).
 */
export interface RequestContext {
  requestId?: string;
  /**
   * This transaction's statement timeout when it must exceed DB_STATEMENT_TIMEOUT_MS (audit
   * verification reads the whole chain); its deadline grows with it.
   */
  statementTimeoutMs?: number;
}

/**
 * Behind a transaction pooler a server connection is shared between clients, so the timeouts a direct
 * connection sets once (see `createGeneration`) are set per transaction; elsewhere nothing is added.
 */
function perTransactionTimeouts(tx: Tx, context?: RequestContext) {
  const raised = context?.statementTimeoutMs;
  if (options!.pooler !== "transaction") {
    return raised ? tx`set_config('statement_timeout', ${String(raised)}, true),` : tx``;
  }
  return tx`set_config('statement_timeout', ${String(raised ?? options!.statementTimeoutMs)}, true),
            set_config('idle_in_transaction_session_timeout', ${
    String(IDLE_IN_TRANSACTION_TIMEOUT_MS)
  }, true),`;
}

/**
 * The statement `withUser`/`queryAsUser` send right after `begin`. Exported for bench/edge.ts, which
 * runs it on a bare postgres.js connection to measure what this driver costs without our leases.
 */
export function contextStatement(tx: Tx, claims: UserClaims, context?: RequestContext) {
  // The role is always `authenticated`: a `role` claim in the token never chooses the database role.
  const jwtClaims = JSON.stringify({ ...claims, role: "authenticated" });
  return tx`
    select set_config('role', 'authenticated', true),
           set_config('request.jwt.claims', ${jwtClaims}, true),
           ${perTransactionTimeouts(tx, context)}
           set_config('request.id', ${context?.requestId ?? currentRequestId() ?? ""}, true),
           -- Evaluated after the claims are set: a banned or locked caller (Clerk) is refused
           -- here (P0001, http:403) before any statement of the request runs. No extra round trip.
           private.refuse_suspended_caller()
  `;
}

/**
 * Runs `body` in one transaction as the given user, under RLS. `body` may issue several
 * statements; the first is pipelined with the context.
 */
export function withUser<T>(
  claims: UserClaims,
  body: (tx: Tx) => Promise<T>,
  context?: RequestContext,
): Promise<T> {
  return transaction((tx) => contextStatement(tx, claims, context), body, context);
}

/**
 * One statement as the given user, under RLS, in a single round trip: begin, context, the
 * statement and commit are sent together.
 */
export function queryAsUser<T extends readonly Row[]>(
  claims: UserClaims,
  statement: (tx: Tx) => postgres.PendingQuery<T>,
  context?: RequestContext,
): Promise<T> {
  return singleStatement((tx) => contextStatement(tx, claims, context), statement);
}

/**
 * Automation only (Clerk webhooks, jobs): one transaction as `service_role`, which bypasses RLS.
 * `actor` names the automation for the audit log (e.g. "clerk-webhooks").
 */
export function withServiceRole<T>(
  actor: string,
  body: (tx: Tx) => Promise<T>,
  context?: RequestContext,
): Promise<T> {
  return transaction((tx) => serviceRoleContext(tx, actor, context), body, context);
}

/**
 * One statement as automation (`service_role`) in a single round trip: begin, context, the
 * statement and commit are sent together (e.g. the Clerk webhook's one call per delivery).
 */
export function queryAsServiceRole<T extends readonly Row[]>(
  actor: string,
  statement: (tx: Tx) => postgres.PendingQuery<T>,
  context?: RequestContext,
): Promise<T> {
  return singleStatement((tx) => serviceRoleContext(tx, actor, context), statement);
}

function serviceRoleContext(tx: Tx, actor: string, context?: RequestContext) {
  return tx`
    select set_config('role', 'service_role', true),
           set_config('request.jwt.claims', ${JSON.stringify({ role: "service_role", actor })}, true),
           ${perTransactionTimeouts(tx, context)}
           set_config('request.id', ${context?.requestId ?? currentRequestId() ?? ""}, true)
  `;
}

/** Cheap liveness probe for /health: the same lease, deadline and refusal as every request. */
export async function ping(): Promise<void> {
  await singleStatement(() => undefined, (tx) => tx`select 1`);
}

/** A JSON value as postgres.js serializes it for json/jsonb parameters (`tx.json(value)`). */
export type JsonObject = postgres.JSONValue & Record<string, unknown>;

/** Configures the pool from the validated DatabaseSettings (config.ts); a bad combination stops start-up. */
export function configureDatabaseFrom(settings: Parameters<typeof resolveDatabaseSettings>[0]): void {
  const resolved = resolveDatabaseSettings(settings);
  configureDatabase({
    url: resolved.url,
    poolSize: resolved.poolSize,
    prepare: resolved.prepare,
    statementTimeoutMs: resolved.statementTimeoutMs,
    pooler: resolved.pooler,
    requestDeadlineMs: resolved.requestDeadlineMs,
    debugStats: resolved.debugStats,
  });
}
