/**
 * Database access: one postgres.js pool per isolate, and the two ways to use it.
 *
 * - `withUser` / `queryAsUser`: a transaction that first sets `role = authenticated` and
 *   `request.jwt.claims` (the shape PostgREST uses), so row-level security decides every read and
 *   write exactly as it would for supabase-js. Statements are pipelined on a reserved connection:
 *   `begin`, the context, the query and `commit` leave together and cost about one round trip.
 * - `withServiceRole`: automation only (webhooks, jobs). Runs as `service_role`, which bypasses
 *   RLS. Never call it with input a user controls unless that input was authenticated otherwise.
 */
import postgres from "postgres";
import { currentRequestId } from "./request_context.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.ReservedSql;
export type Row = postgres.Row;

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  prepare: boolean;
  statementTimeoutMs: number;
}

/**
 * A transaction left open by a crashed or stuck isolate releases its locks after this long.
 * Our transactions are pipelined and last milliseconds; 15 s is far beyond any legitimate one.
 */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 15_000;

let pool: Sql | undefined;
let options: DatabaseOptions | undefined;

/** Configures the isolate's pool. Called once by each function's entry point. */
export function configureDatabase(opts: DatabaseOptions): void {
  if (pool && options && (options.url !== opts.url)) {
    throw new Error("the database is already configured with another URL");
  }
  options = opts;
}

/** The isolate's pool, created on first use (never per request). */
export function database(): Sql {
  if (pool) return pool;
  if (!options) throw new Error("configureDatabase() was not called");
  pool = postgres(options.url, {
    max: options.poolSize,
    prepare: options.prepare,
    // Fail fast when the database is unreachable so callers get a quick 503 to retry.
    connect_timeout: 3,
    idle_timeout: 30,
    max_lifetime: 60 * 30,
    onnotice: () => {},
    // On a direct or session-pooled connection the timeout is set once per connection (a session
    // setting survives SET ROLE). Behind the transaction pooler a connection is shared between
    // clients, so it is set per transaction instead (see contextStatement).
    connection: options.prepare
      ? {
        application_name: "edge-functions",
        statement_timeout: options.statementTimeoutMs,
        idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
      }
      : { application_name: "edge-functions" },
  });
  return pool;
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
}

/**
 * Behind the transaction pooler a connection is shared between clients, so the timeouts a direct
 * connection sets once (see `database()`) are set per transaction; elsewhere nothing is added.
 */
function perTransactionTimeouts(tx: Tx) {
  if (options!.prepare) return tx``;
  return tx`set_config('statement_timeout', ${String(options!.statementTimeoutMs)}, true),
            set_config('idle_in_transaction_session_timeout', ${
    String(IDLE_IN_TRANSACTION_TIMEOUT_MS)
  }, true),`;
}

function contextStatement(tx: Tx, claims: UserClaims, context?: RequestContext) {
  // The role is always `authenticated`: a `role` claim in the token never chooses the database role.
  const jwtClaims = JSON.stringify({ ...claims, role: "authenticated" });
  return tx`
    select set_config('role', 'authenticated', true),
           set_config('request.jwt.claims', ${jwtClaims}, true),
           ${perTransactionTimeouts(tx)}
           set_config('request.id', ${context?.requestId ?? currentRequestId() ?? ""}, true)
  `;
}

async function inTransaction<T>(
  setContext: (tx: Tx) => Promise<unknown>,
  body: (tx: Tx) => Promise<T>,
): Promise<T> {
  const tx = await database().reserve();
  try {
    // Not awaited one by one: postgres.js writes them to the socket back to back (pipelining).
    const begin = tx`begin`;
    const context = setContext(tx);
    const resultPromise = body(tx);
    // Mark as handled; the same rejections are surfaced by the awaits below, in order.
    for (const pending of [begin, context, resultPromise]) pending.catch(() => {});
    await begin;
    await context;
    const result = await resultPromise;
    await tx`commit`;
    return result;
  } catch (error) {
    await tx`rollback`.catch(() => {});
    throw error;
  } finally {
    tx.release();
  }
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
  return inTransaction((tx) => contextStatement(tx, claims, context), body);
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

/** begin, context, one statement and commit, written together: about one round trip. */
async function singleStatement<T extends readonly Row[]>(
  setContext: (tx: Tx) => Promise<unknown>,
  statement: (tx: Tx) => postgres.PendingQuery<T>,
): Promise<T> {
  const tx = await database().reserve();
  try {
    const pending = [tx`begin`, setContext(tx)];
    const query = statement(tx);
    const commit = tx`commit`;
    for (const p of [...pending, query, commit]) p.catch(() => {});
    for (const p of pending) await p;
    const rows = await query;
    await commit;
    return rows;
  } catch (error) {
    await tx`rollback`.catch(() => {});
    throw error;
  } finally {
    tx.release();
  }
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
  return inTransaction((tx) => serviceRoleContext(tx, actor, context), body);
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
           ${perTransactionTimeouts(tx)}
           set_config('request.id', ${context?.requestId ?? currentRequestId() ?? ""}, true)
  `;
}

/** Cheap liveness probe for /health. */
export async function ping(): Promise<void> {
  await database()`select 1`;
}

/** A JSON value as postgres.js serializes it for json/jsonb parameters (`tx.json(value)`). */
export type JsonObject = postgres.JSONValue & Record<string, unknown>;

/** Configures the pool from the validated DatabaseSettings (config.ts). */
export function configureDatabaseFrom(settings: {
  SUPABASE_DB_URL: string;
  DB_POOL_SIZE: number;
  DB_PREPARE: boolean;
  DB_STATEMENT_TIMEOUT_MS: number;
}): void {
  configureDatabase({
    url: settings.SUPABASE_DB_URL,
    poolSize: settings.DB_POOL_SIZE,
    prepare: settings.DB_PREPARE,
    statementTimeoutMs: settings.DB_STATEMENT_TIMEOUT_MS,
  });
}
