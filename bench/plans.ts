/**
 * Query plans and latency budgets of every primary query, on a production-scale data set.
 * Prints figures; exits 1 when a primary query reads a large table sequentially (2 when a query
 * fails). Budgets are printed against their goals, never asserted.
 *
 *   deno run -A bench/plans.ts [--scale 1] [--runs 200] [--max-seconds 30] [--only <text>]
 *   npm run bench:plans -- --scale 0.1
 *
 * 1. Data: `ensureDataset(scale)` (bench/_data.ts; scale 1 = 100,000 users, 1,000,000 projects,
 *    5,000,000 tabs, 10,000,000 history rows; generating it takes minutes and ~7 GB). Data sets of
 *    other scales are kept (the database is shared: others' benchmarks use scale 0.1).
 * 2. The SQL is not copied. Each API query is captured from its repository function: the function
 *    runs once on the production pool (_shared/db.ts) with postgres.js's `debug` hook recording
 *    every statement it builds (text, parameter type OIDs, the values as Bind serialized them), in
 *    a transaction that cannot commit: the repository runs on a withUser transaction whose body
 *    throws at the end (rolled back by db.ts), and a function that commits by itself (the webhook)
 *    runs on a read-only session, so its COMMIT ends an aborted transaction. Replayed is exactly what the application sends:
 *    statement text, parameter type OIDs and values, and the context statement of _shared/db.ts
 *    (`set_config('role', ...)`, `set_config('request.jwt.claims', ...)`), so RLS decides as in
 *    production. The cleanup jobs run the command pg_cron runs (`ops.jobs.command`), as the job
 *    owner (postgres), each run in a session of its own as pg_cron does.
 * 3. Plan: one transaction (rolled back): the context, the scenario's untimed setup (fixtures such
 *    as a 20-tab project; for the jobs, retentions shortened so that one batch has work), then
 *    `explain (analyze, buffers, format json)` of each statement, auto_explain logging the plans of
 *    the nested statements too (function bodies, triggers, foreign-key cascades). Printed: the top
 *    plan nodes, buffers, and every sequential scan of a large table (pg_class.reltuples > 10,000)
 *    anywhere in those plans, with the rows it actually read.
 * 4. Latency: `--runs` executions (200 after 5 untimed ones; fewer when a query's runs pass
 *    `--max-seconds`, at least 5), each in its own transaction on one connection: begin, context,
 *    setup, then the statement(s) as named prepared statements (postgres.js `prepare: true`, the
 *    production default on a direct connection), issued together as the repository pipelines them,
 *    then rollback. Timed: from sending the statement(s) to the last result, client side over
 *    loopback; begin, context, setup and rollback are not. One more execution logs the plans the
 *    prepared statement settled on (Postgres may switch to a generic plan after 5 executions) with
 *    their nested plans; they are checked for sequential scans as well.
 * 5. p50/p95 against the budget of the query's class (docs/DATABASE.md, "Primary queries and their
 *    plans"); a missed budget is reported, not an error (timing depends on the machine).
 *
 * Every execution is rolled back: the data set does not drift and nothing is committed (rolled-back
 * writes leave dead rows for autovacuum, and consume audit log ids, which the sealer skips).
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { dbUrl } from "../tools/settings.ts";
import { configureDatabase, database, withUser } from "../supabase/functions/_shared/db.ts";
import type { Tx, UserClaims } from "../supabase/functions/_shared/db.ts";
import { getProject, listProjects } from "../supabase/functions/api/repositories/projects.ts";
import { listTabs, replaceTabs } from "../supabase/functions/api/repositories/tabs.ts";
import type { TabWrite } from "../supabase/functions/api/repositories/tabs.ts";
import { listHistory } from "../supabase/functions/api/repositories/history.ts";
import { applyClerkEvent } from "../supabase/functions/clerk-webhooks/repositories/events.ts";
import { parseClerkEvent } from "../supabase/functions/clerk-webhooks/events.ts";
import { listAuditEntries } from "../supabase/functions/admin/repositories/audit.ts";
import type { AuditPage } from "../supabase/functions/admin/repositories/audit.ts";
import { createRequest } from "../supabase/functions/privacy/repositories/requests.ts";
import { benchProjectId, benchUserId, ensureDataset } from "./_data.ts";
import type { DatasetPlan } from "./_data.ts";

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------
// tools/bench.sh hands the same arguments to every benchmark: not strict, the others' are ignored
// (and named below).
const { values: options, positionals } = parseArgs({
  args: Deno.args,
  options: {
    scale: { type: "string" },
    runs: { type: "string" },
    "max-seconds": { type: "string" },
    only: { type: "string" },
  },
  strict: false,
  allowPositionals: true,
});
const OWN_OPTIONS = ["scale", "runs", "max-seconds", "only"];
function positive(name: string, fallback: number): number {
  const raw = options[name.slice(2)];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== "string" || !Number.isFinite(value) || value <= 0) {
    console.error(`[bench:plans] error: ${name} needs a positive number, got ${raw}`);
    Deno.exit(2);
  }
  return value;
}
const SCALE = positive("--scale", 1);
/**
 * Below this scale public.projects holds fewer than LARGE_TABLE_ROWS rows (10,000 at 0.01): the
 * planner may rightly read the small tables whole, and the plans would say nothing about production.
 */
const MIN_SCALE = 0.01;
if (SCALE < MIN_SCALE) {
  console.error(
    `[bench:plans] error: --scale ${SCALE} is too small to measure (below ${MIN_SCALE}, public.projects ` +
      `holds fewer than 10,000 rows); use --scale ${MIN_SCALE} or more`,
  );
  Deno.exit(2);
}
const RUNS = Math.round(positive("--runs", 200));
const MAX_SECONDS = positive("--max-seconds", 30);
const ONLY = typeof options.only === "string" ? options.only : undefined;
/** Below this many timed runs a query is not cut short by --max-seconds. */
const MIN_RUNS = 5;
/**
 * Untimed executions first: Postgres plans a prepared statement afresh for its first five
 * executions and only then may settle on a generic plan; production connections live long.
 */
const WARMUP_RUNS = 5;
const ignored = [
  ...Object.keys(options).filter((name) => !OWN_OPTIONS.includes(name)).map((name) => `--${name}`),
  ...positionals,
];
if (ignored.length > 0) console.error(`[bench:plans] ignoring arguments: ${ignored.join(" ")}`);

const DB_URL = dbUrl();
/** A table is large when the planner believes it holds more rows than this (pg_class.reltuples). */
const LARGE_TABLE_ROWS = 10_000;
const log = (line: string) => console.error(`[bench:plans] ${line}`);
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (value: number) => value < 10 ? value.toFixed(2) : value < 1000 ? value.toFixed(1) : fmt(value);
const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 3)}...`;
};

// ---------------------------------------------------------------------------------------------
// Query classes and their budgets (p95). The issue's budgets for the API; the others documented in
// docs/DATABASE.md ("Primary queries and their plans").
// ---------------------------------------------------------------------------------------------
type QueryClass = "list" | "point" | "sync" | "history" | "webhook" | "staff" | "export" | "job";
const BUDGETS: Record<QueryClass, { label: string; p95Ms: number }> = {
  list: { label: "list", p95Ms: 2 },
  point: { label: "point", p95Ms: 2 },
  sync: { label: "tab sync (20)", p95Ms: 10 },
  history: { label: "history page", p95Ms: 5 },
  webhook: { label: "webhook", p95Ms: 5 },
  staff: { label: "staff search", p95Ms: 10 },
  export: { label: "DSAR export", p95Ms: 2_000 },
  job: { label: "job batch", p95Ms: 1_000 },
};

// ---------------------------------------------------------------------------------------------
// Capture: the statements a repository function sends, read through postgres.js's own `debug` hook
// ---------------------------------------------------------------------------------------------

/** One statement as the application sends it: text, parameter type OIDs (0 = inferred), values. */
interface Statement {
  text: string;
  oids: number[];
  params: (string | null)[];
}

/**
 * Records what the production pool (_shared/db.ts, configured with `debug: recorder.hook`) sends.
 * postgres.js calls the hook when it builds a statement, with the parameter type OIDs it will send
 * in Parse and the array of values that its Bind then serializes in place: read after the capture
 * run, they are the text the server received.
 */
class Recorder {
  #built: { text: string; oids: number[]; params: unknown[] }[] = [];

  readonly hook = (_connection: number, text: string, params: unknown[], types: unknown[]) => {
    this.#built.push({ text, oids: types.map((oid) => Number(oid) || 0), params });
  };

  /** Statements built since the last call. */
  take(): Statement[] {
    const taken = this.#built.map(({ text, oids, params }) => ({
      text,
      oids,
      params: params.map((value) => {
        if (value === null || typeof value === "string") return value;
        throw new Error(`a parameter of "${oneLine(text, 60)}" was never sent (${typeof value})`);
      }),
    }));
    this.#built = [];
    return taken;
  }
}

/** Thrown at the end of every capture body, so that db.ts's own transaction rolls back. */
class CaptureDone extends Error {}

/**
 * The route's part, with a transaction that never commits: `body` runs the repository function on
 * the transaction withUser opens (the production context statement included), then the capture
 * throws and withUser rolls back.
 */
async function rolledBack(claims: UserClaims, body: (tx: Tx) => PromiseLike<unknown>): Promise<void> {
  try {
    await withUser(claims, async (tx) => {
      await body(tx);
      throw new CaptureDone();
    });
  } catch (error) {
    if (!(error instanceof CaptureDone)) throw error;
  }
}

/**
 * For a repository function that opens and commits its own transaction (the Clerk webhook's one
 * statement): the session of the pool's one connection is made read-only for the call, so the
 * statement is built and sent, the server refuses its writes, and its COMMIT ends an aborted
 * transaction, which is a rollback. Nothing can be written.
 */
async function readOnly(call: () => Promise<unknown>): Promise<void> {
  await database()`set default_transaction_read_only = on`;
  try {
    await call().catch((error) => {
      if ((error as { code?: string }).code !== "25006") throw error; // read_only_sql_transaction
    });
  } finally {
    await database()`reset default_transaction_read_only`;
  }
}

// ---------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------
interface PlanNode {
  "Node Type": string;
  "Parent Relationship"?: string;
  "Subplan Name"?: string;
  "Relation Name"?: string;
  "Schema"?: string;
  "Alias"?: string;
  "Index Name"?: string;
  "Scan Direction"?: string;
  "Function Name"?: string;
  "CTE Name"?: string;
  "Operation"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Index Cond"?: string;
  "Recheck Cond"?: string;
  "Filter"?: string;
  "Rows Removed by Filter"?: number;
  "Sort Key"?: string[];
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  "Shared Dirtied Blocks"?: number;
  Plans?: PlanNode[];
}

interface ExplainResult {
  Plan: PlanNode;
  "Planning Time"?: number;
  "Execution Time"?: number;
  Triggers?: { "Trigger Name": string; Relation?: string; Time: number; Calls: number }[];
}

/** A plan logged by auto_explain: its statement, duration and plan. */
interface LoggedPlan {
  query: string;
  durationMs: number;
  plan: PlanNode;
}

function* walk(node: PlanNode, depth = 0): Generator<{ node: PlanNode; depth: number }> {
  yield { node, depth };
  for (const child of node.Plans ?? []) yield* walk(child, depth + 1);
}

/** `(select auth.jwt())` and friends: InitPlans that are a bare Result. Not worth a line. */
const trivialInitPlan = (node: PlanNode) =>
  node["Parent Relationship"] === "InitPlan" && node["Node Type"] === "Result" && !node.Plans?.length;

function describe(node: PlanNode): string {
  const type = node["Node Type"] === "Index Scan" && node["Scan Direction"] === "Backward"
    ? "Index Scan Backward"
    : node["Node Type"] === "ModifyTable"
    ? `${node.Operation ?? "Modify"}`
    : node["Node Type"];
  const parts = [type];
  if (node["Index Name"]) parts.push(`using ${node["Index Name"]}`);
  if (node["Relation Name"]) {
    parts.push(`on ${node.Schema ? `${node.Schema}.` : ""}${node["Relation Name"]}`);
  }
  if (node["Function Name"]) parts.push(`of ${node["Function Name"]}()`);
  if (node["CTE Name"]) parts.push(`of ${node["CTE Name"]}`);
  if (node["Subplan Name"]) parts.unshift(`[${node["Subplan Name"]}]`);
  if (node["Actual Rows"] !== undefined) {
    parts.push(`(rows=${node["Actual Rows"]} loops=${node["Actual Loops"] ?? 1})`);
  }
  const condition = node["Index Cond"] ?? node["Recheck Cond"];
  if (condition) parts.push(`cond ${oneLine(condition, 90)}`);
  else if (node["Sort Key"]) parts.push(`key ${oneLine(node["Sort Key"].join(", "), 60)}`);
  if (node.Filter) parts.push(`filter ${oneLine(node.Filter, 60)}`);
  return parts.join(" ");
}

/**
 * The first `count` nodes (pre-order), without trivial InitPlans; then, flat, the table accesses
 * further down that those lines did not reach.
 */
function topNodes(plan: PlanNode, count: number, more = 3): string[] {
  const lines: string[] = [];
  const rest: string[] = [];
  const visit = (node: PlanNode, depth: number) => {
    if (trivialInitPlan(node)) return;
    if (lines.length < count) lines.push(`${"  ".repeat(depth)}${depth > 0 ? "-> " : ""}${describe(node)}`);
    else if (
      node["Relation Name"] && node["Node Type"] !== "ModifyTable" ||
      node["Node Type"] === "Bitmap Index Scan"
    ) {
      rest.push(`   ... ${describe(node)}`);
    }
    for (const child of node.Plans ?? []) visit(child, depth + 1);
  };
  visit(plan, 0);
  return [
    ...lines,
    ...rest.slice(0, more),
    ...(rest.length > more ? [`   ... and ${rest.length - more} more`] : []),
  ];
}

/** Table sizes as the planner sees them: "schema.table" and bare "table" (largest of that name). */
type Sizes = Map<string, number>;

function rowsOf(sizes: Sizes, node: PlanNode): number {
  const name = node["Relation Name"] ?? "";
  return (node.Schema ? sizes.get(`${node.Schema}.${name}`) : undefined) ?? sizes.get(name) ?? -1;
}

interface SeqScan {
  table: string;
  rows: number;
  /** Rows the scan actually read (returned + removed by its filter, all loops). */
  read: number;
  where: string;
}

function seqScans(sizes: Sizes, plan: PlanNode, where: string): SeqScan[] {
  const found: SeqScan[] = [];
  for (const { node } of walk(plan)) {
    if (node["Node Type"] !== "Seq Scan") continue;
    found.push({
      table: `${node.Schema ? `${node.Schema}.` : ""}${node["Relation Name"]}`,
      rows: rowsOf(sizes, node),
      read: ((node["Actual Rows"] ?? 0) + (node["Rows Removed by Filter"] ?? 0)) *
        (node["Actual Loops"] ?? 1),
      where,
    });
  }
  return found;
}

/** Table accesses of nested plans, grouped: "Index Scan using x on t" -> count. */
function accessSummary(sizes: Sizes, plans: LoggedPlan[]): string[] {
  const counts = new Map<string, { count: number; large: boolean; seq: boolean }>();
  for (const logged of plans) {
    for (const { node } of walk(logged.plan)) {
      if (!node["Relation Name"] || node["Node Type"] === "ModifyTable") continue;
      const key = [
        node["Node Type"] === "Index Scan" && node["Scan Direction"] === "Backward"
          ? "Index Scan Backward"
          : node["Node Type"],
        node["Index Name"] ? `using ${node["Index Name"]}` : "",
        `on ${node.Schema ? `${node.Schema}.` : ""}${node["Relation Name"]}`,
      ].filter(Boolean).join(" ");
      const entry = counts.get(key) ??
        { count: 0, large: rowsOf(sizes, node) > LARGE_TABLE_ROWS, seq: node["Node Type"] === "Seq Scan" };
      entry.count++;
      counts.set(key, entry);
    }
  }
  return [...counts.entries()]
    .sort(([, a], [, b]) => Number(b.seq && b.large) - Number(a.seq && a.large) || b.count - a.count)
    .map(([key, { count, seq, large }]) =>
      `${key}${count > 1 ? ` x${count}` : ""}${seq ? (large ? " (LARGE)" : " (small table)") : ""}`
    );
}

function parseLoggedPlan(text: string): LoggedPlan | undefined {
  const start = text.indexOf("{");
  if (start < 0) return undefined;
  try {
    const parsed = JSON.parse(text.slice(start));
    if (!parsed.Plan) return undefined;
    const duration = /duration: ([0-9.]+) ms/.exec(text);
    return {
      query: String(parsed["Query Text"] ?? ""),
      durationMs: duration ? Number(duration[1]) : NaN,
      plan: parsed.Plan,
    };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------
interface Scenario {
  key: string;
  title: string;
  kind: QueryClass;
  /** Where the SQL comes from. */
  source: string;
  /** Who runs it. */
  actor: string;
  /** Runs the repository function once, recorded and rolled back (API queries; see Recorder). */
  capture?: () => Promise<unknown>;
  /** The capture commits by itself and runs read-only instead (readOnly()). */
  readOnly?: boolean;
  /** Given statements (the cron jobs' commands), run without a context (as the owner, like cron). */
  statements?: Statement[];
  /** Untimed, in the same transaction: before the context, as the owner (settings)... */
  ownerSetup?: Statement[];
  /** ...and after the context, as the same role (fixtures). */
  setup?: Statement[];
  /**
   * Read-only statements over an owner setup: the setup runs once, in a transaction that holds
   * every timed run in a savepoint (rolled back), instead of once per run. Only for read-only
   * statements: writes would give every savepoint a subtransaction id.
   */
  sharedSetup?: boolean;
  note?: string;
  /** Filled from the capture. */
  context?: Statement;
  primary?: Statement[];
}

interface Outcome {
  scenario: Scenario;
  explained: ExplainResult[];
  nested: LoggedPlan[];
  steady: LoggedPlan[];
  scans: SeqScan[];
  runs: number;
  p50: number;
  p95: number;
  error?: string;
  extra?: string;
}

const plain = (text: string): Statement => ({ text, oids: [], params: [] });
const isContext = (statement: Statement) => /^\s*select\s+set_config\('role'/i.test(statement.text);
const isTransactionControl = (statement: Statement) =>
  /^\s*(begin|start transaction|commit|end|rollback)\b/i.test(statement.text);

/** Events added to one project for the long-history page (the generator writes 10 per project). */
const LONG_HISTORY = 5_000;

/** Fixed ids for the 20-tab fixture (prefix be03/be04: not the generator's be01/be02). */
const fixtureTabId = (i: number) => `be030000-0000-4000-a000-${i.toString(16).padStart(12, "0")}`;
const newTabId = (i: number) => `be040000-0000-4000-a000-${i.toString(16).padStart(12, "0")}`;
const sqlLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * Settings that give every cleanup job one full batch of work, as after a missed run: each
 * retention is shortened so that a backlog of two batches (2 x cleanup_batch_size rows, at most 1%
 * of what could expire: a run in steady operation removes a small slice of its table) lies past its
 * cutoff; cleanup_max_batches = 1 makes a run one batch. Applied inside each rolled-back transaction.
 */
async function backlogSettings(admin: postgres.Sql): Promise<{ statement: Statement; note: string }> {
  const [{ batch }] = await admin<{ batch: number }[]>`select ops.setting_int('cleanup_batch_size') as batch`;
  const [{ history, inbox, deleted, users }] = await admin<
    { history: number; inbox: number; deleted: number; users: number }[]
  >`
    select
      (select greatest(reltuples, 0) from pg_class where oid = 'public.workspace_history'::regclass)::float8
        as history,
      (select greatest(reltuples, 0) from pg_class where oid = 'private.clerk_webhook_inbox'::regclass)::float8
        as inbox,
      (select count(*) from public.projects where deleted_at is not null)::float8 as deleted,
      (select greatest(reltuples, 0) from pg_class where oid = 'public.users'::regclass)::float8 as users`;
  const backlog = (eligible: number) => Math.max(1, Math.min(2 * batch, Math.floor(eligible / 100)));
  const n = {
    history: backlog(history),
    inbox: backlog(inbox),
    projects: backlog(deleted),
    users: backlog(users),
  };
  // Age in seconds of the n-th oldest row: a retention of that age leaves n rows past the cutoff.
  const [ages] = await admin<{ history: number; inbox: number; projects: number; users: number }[]>`
    select
      (select extract(epoch from now() - h.changed_at) from public.workspace_history h
        order by h.changed_at offset ${n.history - 1} limit 1)::float8 as history,
      (select extract(epoch from now() - i.received_at) from private.clerk_webhook_inbox i
        order by i.received_at offset ${n.inbox - 1} limit 1)::float8 as inbox,
      (select extract(epoch from now() - p.deleted_at) from public.projects p where p.deleted_at is not null
        order by p.deleted_at offset ${n.projects - 1} limit 1)::float8 as projects,
      (select extract(epoch from now() - greatest(u.last_active_at, u.last_sign_in_at, u.created_at))
         from public.users u where u.inactive_since is null
        order by greatest(u.last_active_at, u.last_sign_in_at, u.created_at) offset ${
    n.users - 1
  } limit 1)::float8
        as users`;
  const interval = (seconds: number) => `${Math.max(60, Math.floor(seconds) - 1)} seconds`;
  const values: [string, string][] = [
    ["cleanup_max_batches", "1"],
    ["workspace_history_retention", interval(ages.history)],
    ["webhook_inbox_retention", interval(ages.inbox)],
    ["project_retention", interval(ages.projects)],
    ["user_inactive_after", interval(ages.users)],
    ["cron_history_retention", "1 day"],
  ];
  return {
    statement: plain(`update ops.settings s set minimum = null, value = v.value
from (values ${
      values.map(([key, value]) => `(${sqlLiteral(key)}, ${sqlLiteral(value)})`).join(", ")
    }) as v(key, value)
where s.key = v.key`),
    note:
      `cleanup_max_batches = 1 and retentions shortened so that a backlog of about ${fmt(2 * batch)} rows ` +
      `(at most 1% of the table) is past each cutoff: history ${fmt(n.history)}, inbox ${fmt(n.inbox)}, ` +
      `deleted projects ${fmt(n.projects)}, users ${fmt(n.users)}`,
  };
}

async function buildScenarios(admin: postgres.Sql, plan: DatasetPlan): Promise<Scenario[]> {
  const heavy = benchUserId(plan, 0);
  const typical = benchUserId(plan, Math.floor(plan.users / 2));
  const heavyClaims: UserClaims = { sub: heavy };
  const typicalClaims: UserClaims = { sub: typical };
  const [counts] = await admin<{ heavy: number; typical: number }[]>`
    select (select count(*) from public.projects where user_id = ${heavy})::int as heavy,
           (select count(*) from public.projects where user_id = ${typical})::int as typical`;

  // A deep page: the cursor after ~1,000 rows of the heavy user's list (at small scales, where the
  // heavy user lists fewer, after half of them: still a cursor far from the first page).
  const [listed] = await admin<{ count: number }[]>`
    select count(*)::int as count from public.projects p
    where p.user_id = ${heavy} and p.status = any(${["active", "archived"]}::text[])`;
  const deepOffset = Math.min(1_000, Math.floor(listed.count / 2));
  const [deep] = await admin<{ updated_at: string; id: string }[]>`
    select p.updated_at::text as updated_at, p.id::text as id from public.projects p
    where p.user_id = ${heavy} and p.status = any(${["active", "archived"]}::text[])
    order by p.updated_at desc, p.id desc offset ${Math.max(0, deepOffset - 1)} limit 1`;

  // Active projects of the heavy user, one per scenario that uses one: rolled-back writes leave
  // dead index entries in their project's key range until vacuum, which must not slow the others.
  const projects = await admin<{ id: string; version: string }[]>`
    select id::text, tabs_version::text as version from public.projects
    where user_id = ${heavy} and status = 'active' and id = any(${
    Array.from({ length: 50 }, (_, j) => benchProjectId(plan, j))
  }::uuid[])
    order by id limit 5`;
  if (projects.length < 5 || !deep) {
    throw new Error("the data set lacks active projects or a deep page for the heavy user");
  }
  const [pointProject, tabsProject, syncProject, historyProject, longHistoryProject] = projects;
  const tabsFixture = async (projectId: string) => {
    const existing = await admin<
      { id: string; title: string; kind: string; metadata: Record<string, unknown> }[]
    >`
      select id::text, title, kind, metadata from public.workspace_tabs
      where project_id = ${projectId} order by position`;
    const count = 20 - existing.length;
    // The project grows to 20 tabs, as the owner, inside the rolled-back transaction.
    const setup: Statement = {
      text: `insert into public.workspace_tabs (id, project_id, user_id, position, title, kind, metadata)
select ('be030000-0000-4000-a000-' || lpad(to_hex(g), 12, '0'))::uuid, $1::uuid, $2, ${existing.length} + g,
       'Tab ' || (${existing.length} + g + 1), 'doc', '{}'::jsonb
from generate_series(0, ${count - 1}) as g`,
      oids: [0, 0],
      params: [projectId, heavy],
    };
    const tabs = [
      ...existing,
      ...Array.from({ length: count }, (_, i) => ({
        id: fixtureTabId(i),
        title: `Tab ${existing.length + i + 1}`,
        kind: "doc",
        metadata: {},
      })),
    ];
    return { setup, tabs, note: `the project's ${existing.length} generated tabs + ${count} inserted` };
  };
  const listFixture = await tabsFixture(tabsProject.id);
  const syncFixture = await tabsFixture(syncProject.id);
  // The sync: 18 of the 20 kept in reverse order (all move, one renamed), 2 removed, 2 new.
  const incoming: TabWrite[] = [
    ...syncFixture.tabs.slice(0, 18).reverse().map((tab, position) => ({
      id: tab.id,
      position,
      title: position === 0 ? `${tab.title} (renamed)` : tab.title,
      kind: tab.kind,
      metadata: tab.metadata,
    })),
    ...[0, 1].map((i) => ({
      id: newTabId(i),
      position: 18 + i,
      title: `New tab ${i + 1}`,
      kind: "notes",
      metadata: {},
    })),
  ];

  // Audit search: a cursor inside the data.update entries, the newest bench user's audit trail.
  const support: UserClaims = { sub: "user_seedDemoSupport" };
  const [auditCursor] = await admin<{ occurred_at: string; id: string }[]>`
    select l.occurred_at::text as occurred_at, l.id::text as id from audit.log l where l.action = 'data.update'
    order by l.occurred_at desc, l.id desc offset 49 limit 1`;
  const auditPage = (filter: AuditPage["filter"], after?: AuditPage["after"]): AuditPage => ({
    filter,
    limit: 50,
    after,
  });
  const audit = (key: string, title: string, page: AuditPage): Scenario => ({
    key,
    title,
    kind: "staff",
    source: "admin/repositories/audit.ts listAuditEntries()",
    actor: "authenticated as user_seedDemoSupport (support)",
    capture: () => rolledBack(support, (tx) => listAuditEntries(tx, page)),
  });
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
  const now = new Date().toISOString();

  // Webhook deliveries for the typical user (user.updated: the upsert; session.created: the most
  // frequent event), each with a fresh svix id so the delivery is new (rolled back every time).
  const svix = (kind: string) => `msg_benchplans_${kind}_${crypto.randomUUID().slice(0, 8)}`;
  const nowMs = Date.now();
  const userUpdated = parseClerkEvent(svix("user"), {
    object: "event",
    type: "user.updated",
    timestamp: nowMs,
    data: {
      id: typical,
      email_addresses: [{ id: "idn_bench", email_address: `bench${plan.tag}plans@example.invalid` }],
      primary_email_address_id: "idn_bench",
      first_name: "Bench",
      last_name: "Updated",
      image_url: null,
      created_at: nowMs - 86_400_000,
      updated_at: nowMs,
      last_sign_in_at: nowMs - 60_000,
      last_active_at: nowMs,
    },
  });
  const sessionCreated = parseClerkEvent(svix("session"), {
    object: "event",
    type: "session.created",
    timestamp: nowMs,
    data: { id: "sess_benchplans", user_id: typical, created_at: nowMs, last_active_at: nowMs },
  });

  const jobs = await admin<
    { name: string; command: string }[]
  >`select name, command from ops.jobs order by name`;
  const jobSettings = await backlogSettings(admin);
  const heavyActor = `authenticated as ${heavy} (heavy: ${fmt(counts.heavy)} projects)`;
  return [
    {
      key: "projects.list.heavy",
      title: "project list, first page (20), heavy user",
      kind: "list",
      source: "api/repositories/projects.ts listProjects()",
      actor: heavyActor,
      capture: () =>
        rolledBack(
          heavyClaims,
          (tx) => listProjects(tx, heavy, { statuses: ["active", "archived"], limit: 20 }),
        ),
    },
    {
      key: "projects.list.typical",
      title: "project list, first page (20), typical user",
      kind: "list",
      source: "api/repositories/projects.ts listProjects()",
      actor: `authenticated as ${typical} (${fmt(counts.typical)} projects)`,
      capture: () =>
        rolledBack(
          typicalClaims,
          (tx) => listProjects(tx, typical, { statuses: ["active", "archived"], limit: 20 }),
        ),
    },
    {
      key: "projects.list.deep",
      title: `project list, page after ~${fmt(deepOffset)} rows (keyset cursor), heavy user`,
      kind: "list",
      source: "api/repositories/projects.ts listProjects()",
      actor: heavyActor,
      capture: () =>
        rolledBack(heavyClaims, (tx) =>
          listProjects(tx, heavy, {
            statuses: ["active", "archived"],
            limit: 20,
            after: { updatedAt: deep.updated_at, id: deep.id },
          })),
    },
    {
      key: "projects.get",
      title: "project by id",
      kind: "point",
      source: "api/repositories/projects.ts getProject()",
      actor: heavyActor,
      capture: () => rolledBack(heavyClaims, (tx) => getProject(tx, heavy, pointProject.id)),
    },
    {
      key: "tabs.list",
      title: "tab list of a project with 20 tabs (version + tabs, pipelined)",
      kind: "list",
      source: "api/repositories/tabs.ts listTabs()",
      actor: heavyActor,
      capture: () => rolledBack(heavyClaims, (tx) => listTabs(tx, heavyClaims, tabsProject.id)),
      ownerSetup: [listFixture.setup],
      sharedSetup: true,
      note: `setup (untimed, as the owner, once; each run in a savepoint): ${listFixture.note}`,
    },
    {
      key: "tabs.sync",
      title: "tab sync, 20 tabs: 18 moved (1 renamed), 2 removed, 2 created; then the list",
      kind: "sync",
      source: "api/repositories/tabs.ts replaceTabs()",
      actor: heavyActor,
      capture: () =>
        rolledBack(
          heavyClaims,
          (tx) => replaceTabs(tx, heavyClaims, syncProject.id, syncProject.version, incoming),
        ),
      // Not shared: writes in savepoints would pile up subtransactions in one long transaction.
      ownerSetup: [syncFixture.setup],
      note: `setup (untimed, as the owner, each run): ${syncFixture.note}; If-Match version current`,
    },
    {
      key: "history.page",
      title: "history page (20 + 1) of a project",
      kind: "history",
      source: "api/repositories/history.ts listHistory()",
      actor: heavyActor,
      capture: () => rolledBack(heavyClaims, (tx) => listHistory(tx, heavy, historyProject.id, 20)),
    },
    {
      key: "history.page.long",
      title: `history page (20 + 1) of a project with a long history (+${fmt(LONG_HISTORY)} events)`,
      kind: "history",
      source: "api/repositories/history.ts listHistory()",
      actor: heavyActor,
      capture: () => rolledBack(heavyClaims, (tx) => listHistory(tx, heavy, longHistoryProject.id, 20)),
      ownerSetup: [{
        text: `insert into public.workspace_history (project_id, user_id, tab_id, action, diff, changed_at)
select $1::uuid, $2, null, 'tab.moved', jsonb_build_object('from', g % 20, 'to', (g + 1) % 20),
       now() - g * interval '1 minute'
from generate_series(1, ${LONG_HISTORY}) as g`,
        oids: [0, 0],
        params: [longHistoryProject.id, heavy],
      }],
      sharedSetup: true,
      note:
        `setup (untimed, as the owner, once; each run in a savepoint): ${fmt(LONG_HISTORY)} more events ` +
        "in the project (statistics still say ~10 per project, as after a burst of activity)",
    },
    {
      key: "webhook.user_updated",
      title: "Clerk webhook user.updated (inbox insert + guarded upsert)",
      kind: "webhook",
      source: "clerk-webhooks/repositories/events.ts applyClerkEvent() -> private.apply_clerk_delivery",
      actor: "service_role (actor clerk-webhooks)",
      capture: () => readOnly(() => applyClerkEvent(userUpdated, "bench-plans")),
      readOnly: true,
    },
    {
      key: "webhook.session_created",
      title: "Clerk webhook session.created (inbox insert + forward-only update)",
      kind: "webhook",
      source: "clerk-webhooks/repositories/events.ts applyClerkEvent() -> private.apply_clerk_delivery",
      actor: "service_role (actor clerk-webhooks)",
      capture: () => readOnly(() => applyClerkEvent(sessionCreated, "bench-plans")),
      readOnly: true,
    },
    {
      key: "dsar.export.heavy",
      title: "DSAR export of a heavy user (create_request: build + store + sha256)",
      kind: "export",
      source: "privacy/repositories/requests.ts createRequest() -> privacy.create_request -> execute_export",
      actor: heavyActor.replace("authenticated as", "authenticated as the subject"),
      capture: () => rolledBack(heavyClaims, (tx) => createRequest(tx, { kind: "export" })),
    },
    ...jobs.map((job): Scenario => ({
      key: `job.${job.name}`,
      title: `cleanup job ${job.name}: one batch`,
      kind: "job",
      source: `ops.jobs.command (what pg_cron runs): ${job.command}`,
      actor: "postgres (the job owner, as pg_cron runs it)",
      statements: [plain(job.command)],
      ownerSetup: [jobSettings.statement],
      note: `setup (untimed, rolled back): ${jobSettings.note}`,
    })),
    audit("audit.latest", "audit search, latest page (50)", auditPage({})),
    audit(
      "audit.actor",
      "audit search, actor = a staff member",
      auditPage({ actor: "user_seedDemoSupport" }),
    ),
    audit(
      "audit.action",
      "audit search, action = user.role.changed",
      auditPage({ action: "user.role.changed" }),
    ),
    audit("audit.prefix", "audit search, action prefix dsar.*", auditPage({ actionPrefix: "dsar." })),
    audit(
      "audit.target",
      "audit search, target = one user (entries_about)",
      auditPage({ targetTable: "users", targetId: typical }),
    ),
    audit("audit.range", "audit search, time range (last hour)", auditPage({ from: hourAgo, to: now })),
    ...(auditCursor
      ? [audit(
        "audit.cursor",
        "audit search, next page of action = data.update",
        auditPage({ action: "data.update" }, { occurredAt: auditCursor.occurred_at, id: auditCursor.id }),
      )]
      : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

/** Raw text in, raw text out: the captured parameter values are sent exactly as captured. */
const RAW_OIDS = [0, 16, 17, 20, 21, 23, 25, 26, 114, 700, 701, 1082, 1114, 1184, 3802];

class Runner {
  #notices: string[] = [];
  #sql: postgres.Sql;
  #conn?: postgres.ReservedSql;

  constructor() {
    this.#sql = this.#pool();
  }

  #pool(): postgres.Sql {
    return postgres(DB_URL, {
      max: 1,
      prepare: true,
      types: { raw: { to: 25, from: RAW_OIDS, serialize: (x: string) => x, parse: (x: string) => x } },
      onnotice: (notice) => this.#notices.push(String(notice.message)),
      connection: { application_name: "bench-plans", statement_timeout: 120_000 },
    });
  }

  async connection(): Promise<postgres.ReservedSql> {
    if (this.#conn) return this.#conn;
    this.#conn = await this.#sql.reserve();
    // auto_explain is preloaded, as on Supabase (a non-superuser cannot LOAD it).
    await this.#conn`set client_min_messages = log`;
    return this.#conn;
  }

  /**
   * A new session (backend), as pg_cron gives each job run: plan caches of functions start empty,
   * so a statement a run executes once is planned for its values, never with a generic plan.
   */
  async newSession(): Promise<postgres.ReservedSql> {
    this.#conn?.release();
    this.#conn = undefined;
    await this.#sql.end({ timeout: 5 });
    this.#sql = this.#pool();
    return await this.connection();
  }

  #params(statement: Statement) {
    return statement.params.map((value, i) => this.#sql.typed(value, statement.oids[i] ?? 0)) as never[];
  }

  exec(conn: postgres.ReservedSql, statement: Statement, prepare = true) {
    return conn.unsafe(statement.text, this.#params(statement), { prepare });
  }

  async #autoExplain(conn: postgres.ReservedSql, nested: boolean) {
    // SET LOCAL, not set_config(): the platform lets the privileged role (postgres) SET these
    // superuser settings (supautils' privileged_role_allowed_configs), which covers SET only.
    const settings = {
      log_min_duration: "0",
      log_nested_statements: nested ? "on" : "off",
      log_analyze: "on",
      log_buffers: "on",
      log_verbose: "on",
      log_format: "json",
    };
    for (const [name, value] of Object.entries(settings)) {
      await conn.unsafe(`set local auto_explain.${name} = ${value}`);
    }
  }

  async #prepareTransaction(conn: postgres.ReservedSql, scenario: Scenario, ownerSetup = true) {
    if (ownerSetup) { for (const statement of scenario.ownerSetup ?? []) await this.exec(conn, statement); }
    if (scenario.context) await this.exec(conn, scenario.context);
    for (const statement of scenario.setup ?? []) await this.exec(conn, statement);
  }

  /** Plans logged since the mark, without the bench's own statements. */
  #loggedPlans(scenario: Scenario, from: number): LoggedPlan[] {
    const own = new Set(
      [scenario.context, ...(scenario.setup ?? []), ...(scenario.ownerSetup ?? [])]
        .filter((statement): statement is Statement => statement !== undefined)
        .map((statement) => statement.text),
    );
    return this.#notices.slice(from)
      .map(parseLoggedPlan)
      .filter((logged): logged is LoggedPlan =>
        logged !== undefined && !own.has(logged.query) && !/^\s*explain\b/i.test(logged.query) &&
        !/^\s*(begin|rollback)\s*$/i.test(logged.query)
      );
  }

  /** EXPLAIN (ANALYZE, BUFFERS) of each statement, nested plans through auto_explain. Rolled back. */
  async explain(scenario: Scenario): Promise<{ explained: ExplainResult[]; nested: LoggedPlan[] }> {
    const conn = scenario.kind === "job" ? await this.newSession() : await this.connection();
    this.#notices.length = 0;
    await conn`begin`;
    try {
      await this.#autoExplain(conn, true);
      await this.#prepareTransaction(conn, scenario);
      const mark = this.#notices.length;
      const explained: ExplainResult[] = [];
      for (const statement of scenario.primary!) {
        const [row] = await conn.unsafe(
          `explain (analyze, buffers, format json) ${statement.text}`,
          this.#params(statement),
          { prepare: false },
        );
        const value = row["QUERY PLAN"];
        explained.push((typeof value === "string" ? JSON.parse(value) : value)[0]);
      }
      return { explained, nested: this.#loggedPlans(scenario, mark) };
    } finally {
      await conn`rollback`;
    }
  }

  /** `runs` timed executions, then one that logs the plans the prepared statements settled on. */
  async time(scenario: Scenario): Promise<{ times: number[]; steady: LoggedPlan[]; lastResult: unknown }> {
    let conn = await this.connection();
    const times: number[] = [];
    const started = performance.now();
    // A read-only query over a large setup: the setup once, each run in a savepoint rolled back.
    const shared = scenario.sharedSetup === true;
    if (shared) {
      await conn`begin`;
      for (const statement of scenario.ownerSetup ?? []) await this.exec(conn, statement);
    }
    const [open, close] = shared ? ["savepoint run", "rollback to savepoint run"] : ["begin", "rollback"];
    try {
      for (let run = -WARMUP_RUNS;; run++) {
        const last = run >= RUNS || (run >= MIN_RUNS && (performance.now() - started) / 1000 > MAX_SECONDS);
        // pg_cron runs each job in a session of its own; the API's pooled sessions live long.
        if (scenario.kind === "job") conn = await this.newSession();
        this.#notices.length = 0;
        await conn.unsafe(open);
        try {
          if (last) await this.#autoExplain(conn, true);
          await this.#prepareTransaction(conn, scenario, !shared);
          const mark = this.#notices.length;
          const t0 = performance.now();
          const results = await Promise.all(scenario.primary!.map((statement) => this.exec(conn, statement)));
          const elapsed = performance.now() - t0;
          // Rolling back ends the last portal: its plan (auto_explain) arrives before the answer.
          await conn.unsafe(close);
          if (last) {
            return { times, steady: this.#loggedPlans(scenario, mark), lastResult: results.at(0)?.[0] };
          }
          if (run >= 0) times.push(elapsed);
        } catch (error) {
          await conn.unsafe(close).catch(() => {});
          throw error;
        }
      }
    } finally {
      if (shared) await conn`rollback`.catch(() => {});
    }
  }

  async end() {
    this.#conn?.release();
    await this.#sql.end({ timeout: 5 });
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A short line about what the last execution returned (jobs: their counts; exports: rows). */
function resultNote(scenario: Scenario, result: unknown): string | undefined {
  if (!result || typeof result !== "object") return undefined;
  const row = result as Record<string, unknown>;
  if (scenario.kind === "job") {
    const value = Object.values(row)[0];
    const parsed = typeof value === "string" ? JSON.parse(value) : value;
    if (parsed && typeof parsed === "object") {
      const { job: _, cutoff: __, ...counts } = parsed as Record<string, unknown>;
      return `result: ${JSON.stringify(counts)}`;
    }
  }
  if (scenario.kind === "export" && row.row_counts) {
    const counts = typeof row.row_counts === "string" ? JSON.parse(row.row_counts) : row.row_counts;
    return `status ${row.status}; rows exported: ${
      Object.entries(counts as Record<string, number>).filter(([, n]) => Number(n) > 0)
        .map(([table, n]) => `${table} ${fmt(Number(n))}`).join(", ")
    }`;
  }
  if (scenario.kind === "webhook") return `outcome: ${Object.values(row)[0]}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------
async function main(): Promise<number> {
  const startedAt = performance.now();
  const dataset = await ensureDataset(SCALE, { keepOthers: true });
  const plan = dataset.plan;
  const admin = postgres(DB_URL, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: "bench-plans", statement_timeout: 0 },
  });
  const runner = new Runner();
  const recorder = new Recorder();
  const out: string[] = [];
  const outcomes: Outcome[] = [];
  try {
    // Table sizes as the planner sees them.
    const sizes: Sizes = new Map();
    for (
      const row of await admin<{ schema: string; name: string; rows: number }[]>`
        select n.nspname as schema, c.relname as name, greatest(c.reltuples, 0)::float8 as rows
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and n.nspname in ('public', 'private', 'privacy', 'audit', 'ops', 'cron')`
    ) {
      sizes.set(`${row.schema}.${row.name}`, row.rows);
      sizes.set(row.name, Math.max(sizes.get(row.name) ?? 0, row.rows));
    }
    const large = [...sizes.entries()].filter(([name, rows]) => name.includes(".") && rows > LARGE_TABLE_ROWS)
      .sort(([, a], [, b]) => b - a);
    const [server] = await admin<{ version: string }[]>`select current_setting('server_version') as version`;
    const load = (() => {
      try {
        return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
      } catch {
        return "?";
      }
    })();

    const scenarios = (await buildScenarios(admin, plan))
      .filter((scenario) => !ONLY || scenario.key.includes(ONLY) || scenario.title.includes(ONLY));

    // Capture the statements of every API query from its repository function.
    // One connection (poolSize 1), so that readOnly() sets the session the capture runs on.
    configureDatabase({
      url: DB_URL,
      poolSize: 1,
      prepare: true,
      statementTimeoutMs: 60_000,
      debug: recorder.hook,
    });
    await database()`select 1`; // postgres.js fetches array types on its first connection
    recorder.take();
    for (const scenario of scenarios) {
      if (scenario.statements) {
        scenario.primary = scenario.statements;
        continue;
      }
      recorder.take();
      try {
        await scenario.capture!();
      } catch (error) {
        // The statements were sent; an error of the (rolled back) capture run is not the point.
        log(`${scenario.key}: the capture run answered ${(error as Error).message}`);
      }
      const statements = recorder.take().filter((statement) =>
        !/default_transaction_read_only/.test(statement.text)
      );
      const control = statements.filter(isTransactionControl).map((statement) =>
        statement.text.trim().toLowerCase()
      );
      if (control.at(-1) !== "rollback" && !scenario.readOnly) {
        throw new Error(`${scenario.key}: the capture did not end in a rollback (${control.join(", ")})`);
      }
      scenario.context = statements.find(isContext);
      scenario.primary = statements.filter((statement) =>
        !isContext(statement) && !isTransactionControl(statement)
      );
      if (scenario.primary.length === 0) throw new Error(`${scenario.key}: no statement captured`);
    }
    await database().end({ timeout: 5 });

    out.push(
      "",
      `Primary query plans and latencies, scale ${SCALE} (${plan.userPrefix}*: ${fmt(plan.users)} users, ` +
        `${fmt(plan.projects)} projects, ${fmt(plan.tabs)} tabs, ${fmt(plan.history)} history rows)` +
        (dataset.generated ? `, generated now in ${fmt(dataset.timings.total ?? 0, 1)} s` : ""),
      `  PostgreSQL ${server.version}; ${navigator.hardwareConcurrency} cores, load average ${load}`,
      `  large tables (reltuples > ${fmt(LARGE_TABLE_ROWS)}): ${
        large.map(([name, rows]) => `${name} ${fmt(rows)}`).join(", ")
      }`,
      `  timing: ${RUNS} runs per query after ${WARMUP_RUNS} untimed ones (fewer past ${MAX_SECONDS} s, ` +
        `at least ${MIN_RUNS}), each in its own ` +
        "transaction (begin, role + claims, setup, statements, rollback) on one connection (cron jobs: a new " +
        "session per run, as pg_cron); the statements as prepared statements, pipelined like the repository; " +
        "client-side time of the statements only",
    );

    for (const scenario of scenarios) {
      log(`${scenario.key} ...`);
      const outcome: Outcome = {
        scenario,
        explained: [],
        nested: [],
        steady: [],
        scans: [],
        runs: 0,
        p50: NaN,
        p95: NaN,
      };
      outcomes.push(outcome);
      try {
        const { explained, nested } = await runner.explain(scenario);
        outcome.explained = explained;
        outcome.nested = nested;
        const { times, steady, lastResult } = await runner.time(scenario);
        outcome.steady = steady;
        const sorted = [...times].sort((a, b) => a - b);
        outcome.runs = times.length;
        outcome.p50 = percentile(sorted, 50);
        outcome.p95 = percentile(sorted, 95);
        outcome.extra = resultNote(scenario, lastResult);
        outcome.scans = [
          ...explained.flatMap((result, i) => seqScans(sizes, result.Plan, `statement ${i + 1}`)),
          ...nested.flatMap((logged) => seqScans(sizes, logged.plan, `nested: ${oneLine(logged.query, 70)}`)),
          ...steady.flatMap((logged) =>
            seqScans(sizes, logged.plan, `prepared: ${oneLine(logged.query, 70)}`)
          ),
        ];
      } catch (error) {
        outcome.error = (error as Error).message;
      }
      out.push(...report(outcome, sizes));
    }

    // Summary
    const largeScans = outcomes.filter((o) => o.scans.some((scan) => scan.rows > LARGE_TABLE_ROWS));
    const failed = outcomes.filter((o) => o.error);
    const missed = outcomes.filter((o) => !o.error && !(o.p95 < BUDGETS[o.scenario.kind].p95Ms));
    out.push(
      "",
      `Summary (scale ${SCALE}, p50/p95 in ms over the timed runs)`,
      `  ${"query".padEnd(28)} ${"class".padEnd(14)} ${"runs".padStart(4)} ${"p50".padStart(8)} ${
        "p95".padStart(8)
      }  ${"budget p95".padEnd(11)} ${"".padEnd(6)} seq scan of a large table`,
    );
    for (const o of outcomes) {
      const budget = BUDGETS[o.scenario.kind];
      const bad = o.scans.filter((scan) => scan.rows > LARGE_TABLE_ROWS);
      out.push(
        `  ${o.scenario.key.padEnd(28)} ${budget.label.padEnd(14)} ${String(o.runs).padStart(4)} ${
          (o.error ? "-" : ms(o.p50)).padStart(8)
        } ${(o.error ? "-" : ms(o.p95)).padStart(8)}  ${`< ${fmt(budget.p95Ms)} ms`.padEnd(11)} ${
          (o.error ? "ERROR" : o.p95 < budget.p95Ms ? "met" : "MISSED").padEnd(6)
        } ${bad.length ? [...new Set(bad.map((scan) => scan.table))].join(", ") : "none"}`,
      );
    }
    out.push(
      "",
      `  ${outcomes.length - missed.length - failed.length}/${outcomes.length} within budget` +
        (missed.length ? `; missed: ${missed.map((o) => o.scenario.key).join(", ")}` : "") +
        `; sequential scans of large tables: ${
          largeScans.length ? largeScans.map((o) => o.scenario.key).join(", ") : "none"
        }` +
        (failed.length ? `; failed: ${failed.map((o) => o.scenario.key).join(", ")}` : "") +
        `; total ${fmt((performance.now() - startedAt) / 1000, 1)} s`,
    );
    console.log(out.join("\n"));
    if (failed.length) return 2;
    return largeScans.length ? 1 : 0;
  } finally {
    await runner.end();
    await admin.end({ timeout: 5 });
  }
}

function report(o: Outcome, sizes: Sizes): string[] {
  const { scenario } = o;
  const budget = BUDGETS[scenario.kind];
  const lines = [
    "",
    `== ${scenario.key}: ${scenario.title}`,
    `  source    ${scenario.source}`,
    `  runs as   ${scenario.actor}`,
  ];
  if (scenario.note) lines.push(`  note      ${scenario.note}`);
  (scenario.primary ?? []).forEach((statement, i) =>
    lines.push(`  sql ${scenario.primary!.length > 1 ? i + 1 : " "}     ${oneLine(statement.text, 150)}`)
  );
  if (o.error) {
    lines.push(`  ERROR     ${o.error}`);
    return lines;
  }
  o.explained.forEach((result, i) => {
    const root = result.Plan;
    lines.push(
      `  plan ${o.explained.length > 1 ? i + 1 : " "}    ` +
        `planning ${ms(result["Planning Time"] ?? NaN)} ms, execution ${
          ms(result["Execution Time"] ?? NaN)
        } ms, ` +
        `buffers hit ${fmt(root["Shared Hit Blocks"] ?? 0)} read ${fmt(root["Shared Read Blocks"] ?? 0)}` +
        (root["Shared Dirtied Blocks"] ? ` dirtied ${fmt(root["Shared Dirtied Blocks"])}` : ""),
    );
    for (const line of topNodes(root, 4)) lines.push(`            ${line}`);
    const triggers = (result.Triggers ?? []).filter((trigger) => trigger.Time > 0.05);
    if (triggers.length) {
      lines.push(
        `            triggers: ${
          triggers.map((t) => `${t["Trigger Name"]} ${ms(t.Time)} ms (${t.Calls}x)`).join(", ")
        }`,
      );
    }
  });
  if (o.nested.length) {
    const slowest = [...o.nested].sort((a, b) => b.durationMs - a.durationMs)[0];
    const accesses = accessSummary(sizes, o.nested);
    lines.push(
      `  nested    ${o.nested.length} statement(s) in functions, triggers, cascades; slowest ` +
        `${ms(slowest.durationMs)} ms: ${oneLine(slowest.query, 90)}`,
    );
    lines.push(`            ${accesses.slice(0, 14).join("; ")}${accesses.length > 14 ? "; ..." : ""}`);
  }
  const steadyTop = o.steady.filter((logged) =>
    scenario.primary!.some((statement) => statement.text === logged.query)
  );
  if (steadyTop.length) {
    const differs = steadyTop.some((logged, i) =>
      shape(logged.plan) !== shape(o.explained[i]?.Plan ?? logged.plan)
    );
    lines.push(
      (scenario.kind === "job"
        ? "  new sess  last run, in a session of its own: "
        : `  prepared  after ${o.runs} runs: `) +
        `${differs ? "a different plan" : "the same plan shape"}` +
        (differs ? "" : ` (${steadyTop.map((logged) => firstAccess(logged.plan)).join("; ")})`),
    );
    if (differs) {
      for (const logged of steadyTop) {
        for (const line of topNodes(logged.plan, 4)) lines.push(`            ${line}`);
      }
    }
  }
  const bad = o.scans.filter((scan) => scan.rows > LARGE_TABLE_ROWS);
  const small = o.scans.length - bad.length;
  lines.push(
    `  seq scan  ${
      bad.length
        ? `LARGE TABLE: ${
          [
            ...new Set(
              bad.map((scan) =>
                `${scan.table} (read ${fmt(scan.read)} of ${fmt(scan.rows)} rows) in ${scan.where}`
              ),
            ),
          ].join("; ")
        }`
        : "none of a large table"
    }${small ? ` (${small} of small tables)` : ""}`,
  );
  if (o.extra) lines.push(`  last run  ${o.extra}`);
  lines.push(
    `  latency   ${o.runs} runs  p50 ${ms(o.p50)} ms  p95 ${ms(o.p95)} ms   budget p95 < ${
      fmt(budget.p95Ms)
    } ms ` +
      `(${budget.label}): ${o.p95 < budget.p95Ms ? "met" : "MISSED"}`,
  );
  return lines;
}

/** Node types, indexes and tables of a plan (not its numbers, conditions or schema names). */
function shape(plan: PlanNode): string {
  return [...walk(plan)].filter(({ node }) => !trivialInitPlan(node))
    .map(({ node }) => `${node["Node Type"]}/${node["Index Name"] ?? ""}/${node["Relation Name"] ?? ""}`)
    .join("|");
}
function firstAccess(plan: PlanNode): string {
  for (const { node } of walk(plan)) {
    if (node["Relation Name"] && node["Node Type"] !== "ModifyTable") {
      return [
        node["Node Type"],
        node["Index Name"] && `using ${node["Index Name"]}`,
        `on ${node["Relation Name"]}`,
      ]
        .filter(Boolean).join(" ");
    }
  }
  return plan["Node Type"];
}

if (import.meta.main) {
  let code = 2;
  try {
    code = await main();
  } catch (error) {
    // One line: the cause, not a stack trace (BENCH_DEBUG=1 prints the stack).
    const detail = Deno.env.get("BENCH_DEBUG") ? (error as Error).stack : (error as Error).message;
    console.error(`[bench:plans] error: ${detail ?? error}`);
  }
  Deno.exit(code);
}
