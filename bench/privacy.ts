/**
 * DSAR benchmark: export and erasure of a heavy subject, in seconds, and the plans they ran.
 * Prints figures, asserts nothing.
 *
 *   deno run -A bench/privacy.ts [--projects 1000] [--history 50000] [--tabs-per-project 5] [--scale 0.1]
 *
 * Background: the shared benchmark data set (bench/_data.ts, scale 0.1 by default: 10,000 users,
 * 100,000 projects, 500,000 tabs, 1,000,000 history rows), so the subject's rows are a small part
 * of each table, as in production, and a sequential scan would show. Kept as it is (keepOthers).
 *
 * The heavy subject is written set-based under a random user id (`user_dsarbench...`) through the
 * ordinary triggers: 1,000 projects (a project.created event each), 5 tabs per project (a
 * tab.created event each) and direct history rows up to 50,000 history rows in total, plus webhook
 * inbox rows. Then, timed:
 *   export   privacy.build_export(subject)          the document, one query generated from the map
 *            privacy.create_request('export') as the subject: build + store (+ sha256), what
 *                                                    POST /privacy/requests does
 *   erasure  privacy.run_erasure(request)           lock, anonymize/delete per the data map,
 *                                                    tombstone + cascades, verification, proof
 * A second identical subject is exported and erased with auto_explain logging the plan of every
 * statement, nested ones included (the dynamic statements, the foreign-key cascades, the
 * triggers), and every Seq Scan is listed with the size of its table: a sequential scan of a
 * table with more than 10,000 rows is flagged. Goal: under 2 s each, no such scan.
 * The heavy subjects are erased by the benchmark itself; their tombstones, requests and audit
 * entries stay (that is what an erasure leaves behind).
 */
import postgres from "postgres";
import { dbUrl } from "../tools/settings.ts";
import { ensureDataset } from "./_data.ts";
import { benchOptions } from "./_options.ts";

const DB_URL = dbUrl();

const options = benchOptions("privacy");
const PROJECTS = options.number("--projects", 1_000, "non-negative");
const HISTORY = options.number("--history", 50_000, "non-negative");
const TABS_PER_PROJECT = options.number("--tabs-per-project", 5, "non-negative");
const SCALE = options.number("--scale", 0.1, "non-negative");
options.ignoreTheRest();
const GOAL_SECONDS = 2;
const LARGE_TABLE_ROWS = 10_000;

const sql = postgres(DB_URL, {
  max: 2,
  onnotice: () => {},
  idle_timeout: 5,
  connection: { application_name: "bench-privacy", statement_timeout: 0 },
});

const fmt = (n: number) => n.toLocaleString("en-US");
const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** A heavy subject: user, projects, tabs, history (through the triggers), inbox rows. */
async function createHeavySubject(): Promise<{ id: string; counts: Record<string, number> }> {
  const id = `user_dsarbench${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await sql.begin(async (tx) => {
    await tx`insert into public.users (id, email, first_name, last_name, display_name)
             values (${id}, ${`${id.slice(5)}@example.invalid`}, 'Heavy', 'Subject', 'Heavy')`;
    await tx`insert into public.projects (user_id, name, description, metadata)
             select ${id}, 'Project ' || g, 'Description of project ' || g, jsonb_build_object('n', g)
               from generate_series(1, ${PROJECTS}::int) g`;
    await tx`insert into public.workspace_tabs (project_id, user_id, position, title, kind, metadata)
             select p.id, ${id}, t, 'Tab ' || t, 'doc', '{}'::jsonb
               from public.projects p cross join generate_series(0, ${TABS_PER_PROJECT - 1}::int) t
              where p.user_id = ${id}`;
    const [{ n }] = await tx`select count(*)::int as n from public.workspace_history where user_id = ${id}`;
    const missing = Math.max(0, HISTORY - n);
    await tx`with p as (select array_agg(pp.id order by pp.id) as ids from public.projects pp where pp.user_id = ${id})
             insert into public.workspace_history (project_id, user_id, tab_id, action, diff, changed_at)
             select p.ids[1 + g % cardinality(p.ids)], ${id}, null, 'tab.moved',
                    jsonb_build_object('from', g % 5, 'to', (g + 1) % 5), now() - (g % 1000) * interval '1 minute'
               from p cross join generate_series(0, ${missing}::int - 1) g`;
    await tx`insert into private.clerk_webhook_inbox (svix_id, event_type, clerk_user_id, event_at, outcome)
             select 'msg_dsarbench' || ${id.slice(14)} || '_' || g, 'session.created', ${id}, now(), 'applied'
               from generate_series(1, 20) g`;
  });
  const [counts] = await sql`
    select (select count(*)::int from public.projects where user_id = ${id}) as projects,
           (select count(*)::int from public.workspace_tabs where user_id = ${id}) as tabs,
           (select count(*)::int from public.workspace_history where user_id = ${id}) as history,
           (select count(*)::int from private.clerk_webhook_inbox where clerk_user_id = ${id}) as inbox`;
  return { id, counts: counts as unknown as Record<string, number> };
}

/** Runs `body` on one connection as the subject (role authenticated + claims), like the function does. */
async function asSubject<T>(conn: postgres.ReservedSql, subject: string, body: () => Promise<T>): Promise<T> {
  await conn`begin`;
  try {
    await conn`select set_config('role', 'authenticated', true),
                      set_config('request.jwt.claims', ${
      JSON.stringify({ sub: subject, role: "authenticated" })
    }, true)`;
    const result = await body();
    await conn`commit`;
    return result;
  } catch (error) {
    await conn`rollback`;
    throw error;
  }
}

/** An erasure request ready to run (as support would schedule it, grace already over). */
async function scheduledErasure(subject: string): Promise<string> {
  const [{ id }] = await sql`
    insert into privacy.requests (kind, subject_user_id, requested_as, requester_user_id, reason, status,
                                  grace_period, scheduled_for, clerk_delete_required)
    values ('erasure', ${subject}, 'subject', ${subject}, 'benchmark', 'scheduled', interval '0', now(), false)
    returning id`;
  return id;
}

interface Timings {
  buildMs: number;
  exportRequestMs: number;
  exportBytes: number;
  erasureMs: number;
  erasure: { status: string; row_counts: Record<string, { rows: number }>; proof: Record<string, unknown> };
}

async function exportAndErase(subject: string, conn: postgres.ReservedSql): Promise<Timings> {
  let started = performance.now();
  await conn`select privacy.build_export(${subject}) is not null as built`;
  const buildMs = performance.now() - started;

  started = performance.now();
  const [exported] = await asSubject(
    conn,
    subject,
    () => conn`select r.id, r.status from privacy.create_request('export') r`,
  );
  const exportRequestMs = performance.now() - started;
  const [{ bytes }] =
    await sql`select bytes::float8 as bytes from privacy.exports where request_id = ${exported.id}`;

  const requestId = await scheduledErasure(subject);
  started = performance.now();
  await conn`begin`;
  const [{ status }] = await conn`select privacy.run_erasure(${requestId}::uuid) as status`;
  await conn`commit`;
  const erasureMs = performance.now() - started;
  const [erasure] = await sql`select status, row_counts, proof from privacy.requests where id = ${requestId}`;
  if (status !== "completed") throw new Error(`the erasure ended ${status}: ${JSON.stringify(erasure)}`);
  return { buildMs, exportRequestMs, exportBytes: bytes, erasureMs, erasure: erasure as Timings["erasure"] };
}

interface PlanScan {
  table: string;
  rows: number;
  statement: string;
}

/** Every Seq Scan in the JSON plans auto_explain sent as LOG notices. */
function seqScans(plans: string[], sizes: Map<string, number>): PlanScan[] {
  const scans: PlanScan[] = [];
  const walk = (node: Record<string, unknown>, statement: string) => {
    if (node["Node Type"] === "Seq Scan") {
      const table = `${node["Schema"] ?? "?"}.${node["Relation Name"]}`;
      scans.push({ table, rows: sizes.get(table) ?? -1, statement });
    }
    for (const child of (node["Plans"] as Record<string, unknown>[] | undefined) ?? []) {
      walk(child, statement);
    }
  };
  for (const message of plans) {
    const start = message.indexOf("{");
    if (start < 0) continue;
    try {
      const parsed = JSON.parse(message.slice(start));
      const statement = String(parsed["Query Text"] ?? "").replace(/\s+/g, " ").slice(0, 90);
      walk(parsed["Plan"], statement);
    } catch {
      // not a plan
    }
  }
  return scans;
}

async function main() {
  const out: string[] = [];
  const background = await ensureDataset(SCALE, { keepOthers: true });
  await sql`analyze public.users, public.projects, public.workspace_tabs, public.workspace_history`;
  const [sizes] = await sql`
    select (select count(*)::int from public.users) as users,
           (select count(*)::int from public.projects) as projects,
           (select count(*)::int from public.workspace_tabs) as tabs,
           (select count(*)::int from public.workspace_history) as history`;

  // 1. Timed run.
  const started = performance.now();
  const heavy = await createHeavySubject();
  const setupMs = performance.now() - started;
  const conn = await sql.reserve();
  let timed: Timings;
  try {
    timed = await exportAndErase(heavy.id, conn);
  } finally {
    conn.release();
  }

  // 2. The same again under auto_explain (plans of every statement, nested ones included).
  const second = await createHeavySubject();
  const plans: string[] = [];
  const explaining = postgres(DB_URL, {
    max: 1,
    onnotice: (notice) => {
      if (notice.severity === "LOG" || notice.severity === "NOTICE") plans.push(String(notice.message));
    },
    connection: { application_name: "bench-privacy-explain", statement_timeout: 0 },
  });
  let explained: Timings;
  const explainConn = await explaining.reserve();
  try {
    // auto_explain is preloaded (as on Supabase) and its settings are SET by the privileged role.
    await explainConn`set auto_explain.log_min_duration = 0`;
    await explainConn`set auto_explain.log_nested_statements = on`;
    await explainConn`set auto_explain.log_format = 'json'`;
    await explainConn`set auto_explain.log_verbose = on`;
    await explainConn`set client_min_messages = log`;
    explained = await exportAndErase(second.id, explainConn);
  } finally {
    explainConn.release();
    await explaining.end({ timeout: 5 });
  }
  const tableRows = new Map<string, number>();
  for (
    const row of await sql`
      select n.nspname || '.' || c.relname as name, greatest(c.reltuples, 0)::float8 as rows
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where c.relkind in ('r', 'p') and n.nspname in ('public', 'private', 'privacy', 'audit', 'ops')`
  ) tableRows.set(row.name, row.rows);
  // Small tables are often never analyzed (reltuples 0): count them exactly.
  for (const [name, rows] of tableRows) {
    if (rows < 100_000) {
      const [{ n }] = await sql`select count(*)::float8 as n from ${sql(name)}`;
      tableRows.set(name, n);
    }
  }
  const scans = seqScans(plans, tableRows);
  const largeScans = scans.filter((scan) => scan.rows > LARGE_TABLE_ROWS);

  const row = (label: string, ms: number) =>
    `  ${label.padEnd(44)} ${seconds(ms).padStart(8)} s   ${
      ms / 1000 < GOAL_SECONDS ? "under" : "OVER"
    } the ${GOAL_SECONDS} s goal`;
  out.push(
    "",
    "DSAR export and erasure of a heavy subject",
    `  background: scale ${SCALE} data set (${fmt(sizes.users)} users, ${fmt(sizes.projects)} projects, ` +
      `${fmt(sizes.tabs)} tabs, ${fmt(sizes.history)} history rows)${
        background.generated ? " - generated now" : ""
      }`,
    `  subject: ${fmt(heavy.counts.projects)} projects, ${fmt(heavy.counts.tabs)} tabs, ` +
      `${fmt(heavy.counts.history)} history rows, ${fmt(heavy.counts.inbox)} inbox rows (set up in ${
        seconds(setupMs)
      } s)`,
    row("export: privacy.build_export (one query)", timed!.buildMs),
    row("export request: build + store + sha256", timed!.exportRequestMs),
    `  ${"export document".padEnd(44)} ${(timed!.exportBytes / 1_048_576).toFixed(1).padStart(8)} MB`,
    row("erasure: privacy.run_erasure (one transaction)", timed!.erasureMs),
    `  erased rows: ${
      Object.entries(timed!.erasure.row_counts)
        .filter(([, value]) => (value as { action?: string }).action !== "retain")
        .map(([table, value]) => `${table} ${fmt(Number(value.rows))}`).join(", ")
    }`,
    `  proof: remaining ${JSON.stringify(timed!.erasure.proof.remaining)}, sha256 ${
      String(timed!.erasure.proof.sha256).slice(0, 16)
    }...`,
    "",
    "Plans (second subject, auto_explain of every statement incl. nested, cascades and triggers)",
    `  with plan logging: export ${seconds(explained!.buildMs)} s, export request ${
      seconds(explained!.exportRequestMs)
    } s, erasure ${seconds(explained!.erasureMs)} s; ${fmt(plans.length)} plans logged`,
    `  sequential scans: ${scans.length} in all, ${largeScans.length} of a table over ${
      fmt(LARGE_TABLE_ROWS)
    } rows`,
  );
  const byTable = new Map<string, number>();
  for (const scan of scans) {
    byTable.set(
      `${scan.table} (${fmt(scan.rows)} rows)`,
      (byTable.get(`${scan.table} (${fmt(scan.rows)} rows)`) ?? 0) + 1,
    );
  }
  for (const [table, count] of byTable) out.push(`    Seq Scan on ${table}: ${count}x`);
  for (const scan of largeScans.slice(0, 10)) out.push(`    LARGE: ${scan.table} in: ${scan.statement}`);
  console.log(out.join("\n"));
}

try {
  await main();
} finally {
  await sql.end({ timeout: 5 });
}
