/**
 * Benchmark data set: synthetic users, projects, tabs, history (and Clerk webhook inbox / audit
 * rows when those tables exist), loaded set-based (`insert ... select from generate_series`) by
 * the migration owner with `session_replication_role = replica`, so the history/audit triggers
 * and the foreign-key triggers stay out of the bulk load; the generator writes consistent rows,
 * history included. `vacuum (analyze)` afterwards.
 *
 * Used by benchmarks (`await ensureDataset(0.1)`) and runnable on its own:
 *
 *   deno run -A bench/_data.ts --scale 0.1        # npm run bench:data -- --scale 0.1
 *   deno run -A bench/_data.ts --scale 1 --keep-others
 *   deno run -A bench/_data.ts --drop [--scale 1] # removes every (or one) benchmark data set
 *
 * Scale 1: 100,000 users, 1,000,000 projects, 5,000,000 tabs, 10,000,000 history rows,
 * 300,000 webhook inbox rows (3 per user, if private.clerk_webhook_inbox exists), 100,000 audit
 * entries (1 per user, if audit.append() exists). Scale 0.1 is exactly a tenth. Ownership is
 * skewed: 10 heavy users own 5,000 projects each at scale 1 (2,000 at 0.1); the rest follow a
 * Zipf-like curve (about 3,000 / 800 projects for the first of them at scale 1 / 0.1, most users
 * 4-8). Tabs: 1-9 per project, 5 on average, dense
 * positions 0..n-1. History: exactly 10 events per project (project.created, one tab.created per
 * tab, then moves/edits/archival). Timestamps stay inside the retention windows of ops.settings
 * (history events within 80% of workspace_history_retention, deletions within 66% of
 * project_retention, webhook deliveries within 80% of webhook_inbox_retention), so the lifecycle
 * jobs find nothing to trim in a fresh data set; once they (or anyone) remove rows, the next
 * ensureDataset() sees the counts differ from the marker and generates the data set again.
 *
 * Everything generated is recognisable: user ids `user_bench<tag><n>` where the tag names the
 * scale (`s0p1n` for 0.1, `s1n` for 1), emails `bench<tag><n>@example.invalid`, project ids
 * `be01<scale>-0000-4000-a000-<n>` and tab ids `be02<scale>-...` (valid v4-shaped uuids). No
 * extra table: completion is marked in `preferences.bench_dataset` of the data set's user 0,
 * written last. Re-running with the same scale does nothing; a half-written data set (an
 * interrupted run) is removed and written again; when a scale has to be generated, the data sets
 * of other scales are removed first (replaced) unless `keepOthers` / `--keep-others`. Audit entries go through audit.append() (the log's only way
 * in; its guard triggers fire even under replica), actor `bench-data`, target_id the bench user;
 * the log is append-only, so they are never deleted here.
 */
import postgres from "postgres";
import { commandLine, dbUrl } from "../tools/settings.ts";

/** Bumped when the shape of generated data changes: older data sets are then regenerated. */
export const GENERATOR_VERSION = 2;
const BENCH_PREFIX = "user_bench";
/** Connections loading in parallel (the machine has 2 cores; Postgres does the work). */
const LOADERS = 2;
const MARKER_KEY = "bench_dataset";

export interface DatasetPlan {
  scale: number;
  /** Scale in thousandths (0.1 -> 100), also encoded in generated uuids. */
  scaleCode: number;
  tag: string;
  /** Every user id of the data set starts with this. */
  userPrefix: string;
  users: number;
  projects: number;
  tabs: number;
  history: number;
  /** Webhook inbox rows (3 per user) when private.clerk_webhook_inbox exists. */
  inbox: number;
  heavyUsers: number;
  heavyProjectsPerUser: number;
}

export interface DatasetSummary {
  plan: DatasetPlan;
  /** False when a complete data set of this scale was already there. */
  generated: boolean;
  counts: Record<string, number>;
  /** Wall time per stage, in seconds. */
  timings: Record<string, number>;
  completedAt: string;
}

export interface EnsureOptions {
  /** Defaults to SUPABASE_DB_URL (tools/lib.sh: the local cluster on PG_PORT unless set). */
  dbUrl?: string;
  /** Keep data sets of other scales (default: replace them). */
  keepOthers?: boolean;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

function scaleTag(scaleCode: number): string {
  const whole = Math.floor(scaleCode / 1000);
  const fraction = scaleCode % 1000;
  return fraction === 0 ? `s${whole}n` : `s${whole}p${String(fraction).padStart(3, "0").replace(/0+$/, "")}n`;
}

/** Row counts and naming of the data set of one scale. */
export function datasetPlan(scale: number): DatasetPlan {
  const scaleCode = Math.round(scale * 1000);
  if (!Number.isFinite(scale) || Math.abs(scaleCode - scale * 1000) > 1e-6 || scaleCode < 1) {
    throw new Error(`scale must be a positive multiple of 0.001, got ${scale}`);
  }
  if (scaleCode > 20_000) throw new Error(`scale ${scale} is too large (at most 20)`);
  const users = Math.round(100_000 * scale);
  const projects = Math.round(1_000_000 * scale);
  const heavyUsers = Math.min(10, Math.floor(users / 10));
  const heavyProjectsPerUser = heavyUsers === 0 ? 0 : Math.min(
    5_000,
    Math.round(50 * Math.pow(scale, 0.4)) * 100,
    Math.floor(projects / (5 * heavyUsers)),
  );
  const tag = scaleTag(scaleCode);
  return {
    scale,
    scaleCode,
    tag,
    userPrefix: `${BENCH_PREFIX}${tag}`,
    users,
    projects,
    tabs: 5 * projects,
    history: 10 * projects,
    inbox: 3 * users,
    heavyUsers,
    heavyProjectsPerUser,
  };
}

/** The id of user `n` (0-based) of a data set. Users 0..heavyUsers-1 are the heavy ones. */
export function benchUserId(plan: DatasetPlan, n: number): string {
  return `${plan.userPrefix}${n}`;
}

/** Upper bound (exclusive) of the ids starting with `prefix`, for index range scans (C collation). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** `[from, to)`: the user ids of a data set, as a range the user_id indexes can scan. */
export function userIdRange(plan: DatasetPlan): [string, string] {
  return [plan.userPrefix, prefixEnd(plan.userPrefix)];
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, "0");
}

/** SQL for the generated uuid of entity `kind` (1 project, 2 tab) number `n` (a bigint expression). */
function uuidSql(plan: DatasetPlan, kind: 1 | 2, n: string): string {
  return `('be0${kind}${hex(plan.scaleCode, 4)}-0000-4000-a000-' || lpad(to_hex(${n}), 12, '0'))::uuid`;
}

/** The generated id of project `j` (same as the SQL). */
export function benchProjectId(plan: DatasetPlan, j: number): string {
  return `be01${hex(plan.scaleCode, 4)}-0000-4000-a000-${hex(j, 12)}`;
}

/** A non-negative pseudo-random bigint from `n` (Postgres' own integer hash, seeded). */
const hashSql = (n: string, seed: number) => `(hashint8extended(${n}, ${seed}) & 9223372036854775807)`;

const TWO_YEARS = 63_072_000;
const KINDS = `array['brief', 'notes', 'board', 'doc', 'chat']`;

/**
 * Generation time and the windows generated timestamps stay in, so the lifecycle jobs (retention
 * in ops.settings, when present) find nothing to trim in a fresh data set: history events within
 * 80% of workspace_history_retention, deletions within 66% of project_retention, webhook
 * deliveries within 80% of webhook_inbox_retention. Seconds.
 */
interface Clock {
  t0: number;
  historyWindow: number;
  deletedWindow: number;
  inboxWindow: number;
}

/**
 * FROM clause over projects lo..hi (inclusive): g.j is the project number; p.* its derived
 * columns (owner, ids, tab count, status, created/updated epoch seconds).
 */
function projectsFrom(plan: DatasetPlan, clock: Clock, lo: number, hi: number): string {
  const t0 = clock.t0;
  const heavyTotal = plan.heavyUsers * plan.heavyProjectsPerUser;
  const rest = plan.projects - heavyTotal;
  const restUsers = plan.users - plan.heavyUsers;
  const pairedEnd = plan.projects - (plan.projects % 2);
  return `
    generate_series(${lo}::bigint, ${hi}::bigint) as g(j)
    cross join lateral (
      select
        case when g.j < ${heavyTotal} then g.j / ${Math.max(1, plan.heavyProjectsPerUser)}
             else ${plan.heavyUsers} + least(${restUsers - 1},
               floor(${restUsers}::float8 * power((g.j - ${heavyTotal})::float8 / ${rest}, 2))::bigint)
        end as owner,
        ${t0} - 60 - ${hashSql("g.j", 1)} % ${TWO_YEARS} as created_s,
        ${hashSql("g.j", 2)} as h2,
        ${hashSql("g.j", 3)} % 100 as h3,
        ${hashSql("g.j / 2", 4)} % 5 as pair_delta
    ) k
    cross join lateral (
      select
        ${uuidSql(plan, 1, "g.j")} as id,
        '${plan.userPrefix}' || k.owner as user_id,
        (case when g.j >= ${pairedEnd} then 5 when g.j % 2 = 0 then 5 + k.pair_delta else 5 - k.pair_delta end)::int
          as tab_count,
        case when k.h3 < 90 then 'active' when k.h3 < 97 then 'archived' else 'deleted' end as status,
        k.created_s,
        -- Deleted projects were deleted recently (inside the restore window).
        case when k.h3 >= 97 then greatest(k.created_s, ${t0} - 60 - k.h2 % ${clock.deletedWindow})
             else k.created_s + k.h2 % (${t0} - k.created_s) end as updated_s,
        -- History events (and tab creations) fall inside the history retention window.
        greatest(k.created_s, ${t0 - clock.historyWindow}) as events_from_s
    ) p0
    cross join lateral (
      select p0.*, p0.events_from_s + (${t0} - 60 - p0.events_from_s) * (500 + k.h2 % 500) / 1000 as events_to_s
    ) p`;
}

function usersSql(plan: DatasetPlan, clock: Clock, lo: number, hi: number): string {
  const t0 = clock.t0;
  return `
    insert into public.users (id, email, first_name, last_name, display_name, preferences, role,
      clerk_created_at, clerk_updated_at, last_sign_in_at, last_active_at, created_at, updated_at)
    select '${plan.userPrefix}' || g.n, 'bench${plan.tag}' || g.n || '@example.invalid', 'Bench', 'User ' || g.n,
      case when g.n % 3 = 0 then 'Bench ' || g.n end, '{}'::jsonb, 'user',
      to_timestamp(u.created_s), to_timestamp(u.created_s + 3600), to_timestamp(u.seen_s), to_timestamp(u.seen_s),
      to_timestamp(u.created_s), to_timestamp(u.created_s + 3600)
    from generate_series(${lo}::bigint, ${hi}::bigint) as g(n)
    cross join lateral (
      select ${t0} - ${TWO_YEARS} - 86400 - ${hashSql("g.n", 5)} % 31536000 as created_s,
             ${t0} - ${hashSql("g.n", 6)} % 2592000 as seen_s
    ) u`;
}

function projectsSql(plan: DatasetPlan, clock: Clock, lo: number, hi: number): string {
  return `
    insert into public.projects (id, user_id, name, description, status, deleted_at, metadata, tabs_version,
      last_active_at, created_at, updated_at)
    select p.id, p.user_id, 'Project ' || (g.j + 1),
      case when g.j % 4 = 0 then 'Benchmark project ' || g.j end,
      p.status, case when p.status = 'deleted' then to_timestamp(p.updated_s) end,
      case when g.j % 10 = 0 then '{"color": "blue", "pinned": true}'::jsonb else '{}'::jsonb end,
      1 + k.h2 % 20, to_timestamp(greatest(p.updated_s, p.events_to_s)), to_timestamp(p.created_s),
      to_timestamp(p.updated_s)
    from ${projectsFrom(plan, clock, lo, hi)}`;
}

function tabsSql(plan: DatasetPlan, clock: Clock, lo: number, hi: number): string {
  return `
    insert into public.workspace_tabs (id, project_id, user_id, position, title, kind, metadata, created_at, updated_at)
    select ${uuidSql(plan, 2, "g.j * 16 + t.pos")}, p.id, p.user_id, t.pos, 'Tab ' || (t.pos + 1),
      (${KINDS})[1 + (g.j + t.pos) % 5],
      case when t.pos = 0 then '{"activeBriefSectionIds": ["goals", "scope"]}'::jsonb else '{}'::jsonb end,
      -- Created when its tab.created event says (event t.pos + 1 of 0..9).
      to_timestamp(p.events_from_s + (p.events_to_s - p.events_from_s) * (t.pos + 1) / 9), to_timestamp(p.events_to_s)
    from ${projectsFrom(plan, clock, lo, hi)}
    cross join lateral generate_series(0, p.tab_count - 1) as t(pos)`;
}

function historySql(plan: DatasetPlan, clock: Clock, lo: number, hi: number): string {
  return `
    insert into public.workspace_history (project_id, user_id, tab_id, action, diff, changed_at)
    select p.id, p.user_id,
      case when e.n = 0 then null
           when e.n <= p.tab_count then ${uuidSql(plan, 2, "g.j * 16 + e.n - 1")}
           when a.action like 'tab.%' then ${uuidSql(plan, 2, "g.j * 16 + e.n % p.tab_count")}
      end,
      a.action,
      case a.action
        when 'project.created' then '{"status": "active"}'::jsonb
        when 'tab.created' then jsonb_build_object('position', e.n - 1, 'kind', (${KINDS})[1 + (g.j + e.n - 1) % 5])
        when 'tab.moved' then jsonb_build_object('from', e.n % p.tab_count, 'to', (e.n + 1) % p.tab_count)
        when 'tab.updated' then '{"fields": ["title"]}'::jsonb
        when 'project.updated' then '{"fields": ["name"]}'::jsonb
        else jsonb_build_object('from', 'active', 'to', p.status)
      end,
      to_timestamp(p.events_from_s + (p.events_to_s - p.events_from_s) * e.n / 9)
    from ${projectsFrom(plan, clock, lo, hi)}
    cross join lateral generate_series(0, 9) as e(n)
    cross join lateral (
      select case
        when e.n = 0 then 'project.created'
        when e.n <= p.tab_count then 'tab.created'
        when e.n = 9 and p.status = 'archived' then 'project.archived'
        when e.n = 9 and p.status = 'deleted' then 'project.deleted'
        when (g.j + e.n) % 3 = 0 then 'tab.moved'
        when (g.j + e.n) % 3 = 1 then 'tab.updated'
        else 'project.updated'
      end as action
    ) a`;
}

function inboxSql(plan: DatasetPlan, clock: Clock, lo: number, hi: number): string {
  const t0 = clock.t0;
  return `
    insert into private.clerk_webhook_inbox (svix_id, event_type, clerk_user_id, event_at, received_at, outcome)
    select 'msg_bench${plan.tag}' || g.n || 'e' || e.k,
      (array['user.created', 'session.created', 'session.ended'])[e.k + 1],
      '${plan.userPrefix}' || g.n, to_timestamp(r.at_s - 2), to_timestamp(r.at_s), 'applied'
    from generate_series(${lo}::bigint, ${hi}::bigint) as g(n)
    cross join generate_series(0, 2) as e(k)
    -- Inside the inbox retention window (3 deliveries an hour apart).
    cross join lateral (select ${t0} - ${clock.inboxWindow} + ${hashSql("g.n", 7)} % ${
    Math.max(1, clock.inboxWindow - 4 * 3600)
  } + e.k * 3600 as at_s) r`;
}

function chunks(total: number, size: number): Array<[number, number]> {
  const result: Array<[number, number]> = [];
  for (let lo = 0; lo < total; lo += size) result.push([lo, Math.min(total, lo + size) - 1]);
  return result;
}

const fmt = (n: number) => n.toLocaleString("en-US");

interface Marker {
  version: number;
  scale: number;
  counts: Record<string, number>;
  completed_at: string;
}

/** Tags (and completion markers) of the benchmark data sets present. */
async function existingDatasets(sql: postgres.Sql): Promise<Map<string, Marker | null>> {
  const rows = await sql<{ tag: string; marker: Marker | null }[]>`
    select substring(id from ${`^${BENCH_PREFIX}(s[0-9p]+n)[0-9]+$`}) as tag,
           max((preferences -> ${MARKER_KEY})::text)::jsonb as marker
    from public.users
    where id >= ${BENCH_PREFIX} and id < ${prefixEnd(BENCH_PREFIX)}
    group by 1`;
  return new Map(rows.filter((r) => r.tag !== null).map((r) => [r.tag, r.marker]));
}

async function deleteDataset(
  sql: postgres.ReservedSql,
  prefix: string,
  hasInbox: boolean,
  log: (line: string) => void,
): Promise<void> {
  const lo = prefix;
  const hi = prefixEnd(prefix);
  const started = performance.now();
  const statements: Array<[string, () => postgres.PendingQuery<postgres.Row[]>]> = [
    [
      "workspace_history",
      () => sql`delete from public.workspace_history where user_id >= ${lo} and user_id < ${hi}`,
    ],
    [
      "workspace_tabs",
      () => sql`delete from public.workspace_tabs where user_id >= ${lo} and user_id < ${hi}`,
    ],
    ["projects", () => sql`delete from public.projects where user_id >= ${lo} and user_id < ${hi}`],
    ...(hasInbox
      ? [[
        "clerk_webhook_inbox",
        () =>
          sql`delete from private.clerk_webhook_inbox where clerk_user_id >= ${lo} and clerk_user_id < ${hi}`,
      ] as [string, () => postgres.PendingQuery<postgres.Row[]>]]
      : []),
    ["users", () => sql`delete from public.users where id >= ${lo} and id < ${hi}`],
  ];
  for (const [table, statement] of statements) {
    const result = await statement();
    log(`  removed ${fmt(result.count)} ${table} rows of ${prefix}* (${elapsed(started)})`);
  }
}

const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** Differences between the core tables and the counts recorded at generation ("table: now/then"). */
async function coreDrift(sql: postgres.ReservedSql, plan: DatasetPlan, recorded: Record<string, number>) {
  const [lo, hi] = userIdRange(plan);
  const [now] = await sql<{ users: number; projects: number; tabs: number; history: number }[]>`
    select
      (select count(*) from public.users where id >= ${lo} and id < ${hi})::int as users,
      (select count(*) from public.projects where user_id >= ${lo} and user_id < ${hi})::int as projects,
      (select count(*) from public.workspace_tabs where user_id >= ${lo} and user_id < ${hi})::int as tabs,
      (select count(*) from public.workspace_history where user_id >= ${lo} and user_id < ${hi})::int as history`;
  return (["users", "projects", "tabs", "history"] as const)
    .filter((table) => now[table] !== recorded[table])
    .map((table) => `${table}: ${fmt(now[table])}/${fmt(recorded[table] ?? 0)}`);
}

/** Now, and the windows of the retention settings (ops.settings) or their defaults. */
async function generationClock(sql: postgres.ReservedSql): Promise<Clock> {
  const retention: Record<string, number> = {
    workspace_history_retention: 90 * 86400,
    project_retention: 30 * 86400,
    webhook_inbox_retention: 30 * 86400,
  };
  const [{ settings }] = await sql<{ settings: string | null }[]>`
    select to_regclass('ops.settings')::text as settings`;
  if (settings) {
    const rows = await sql<{ key: string; seconds: number }[]>`
      select key, extract(epoch from value::interval)::int as seconds from ops.settings
      where key in ('workspace_history_retention', 'project_retention', 'webhook_inbox_retention')
        and value_type = 'interval'`;
    for (const row of rows) retention[row.key] = row.seconds;
  }
  return {
    t0: Math.floor(Date.now() / 1000),
    historyWindow: Math.floor(retention.workspace_history_retention * 0.8),
    deletedWindow: Math.max(3600, Math.floor(retention.project_retention * 0.66)),
    inboxWindow: Math.max(5 * 3600, Math.floor(retention.webhook_inbox_retention * 0.8)),
  };
}

/**
 * A generator killed mid-statement leaves its backend running the statement, which commits when
 * it ends (the Sync was already sent). Wait for such leftovers before looking at what is there.
 */
async function waitForInterruptedLoaders(sql: postgres.ReservedSql, log: (line: string) => void) {
  const deadline = Date.now() + 10 * 60_000;
  for (let first = true;; first = false) {
    const [{ busy }] = await sql<{ busy: number }[]>`
      select count(*)::int as busy from pg_catalog.pg_stat_activity
      where application_name = 'bench-data' and pid <> pg_backend_pid() and state <> 'idle'
        and backend_type = 'client backend'`;
    if (busy === 0) return;
    if (first) log(`waiting for ${busy} statement(s) of an interrupted run to finish`);
    if (Date.now() > deadline) {
      throw new Error("statements of an interrupted run are still running after 10 min");
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Makes sure the complete data set of `scale` is in the database (see the module comment).
 * Returns what is there, and whether it was generated now.
 */
export async function ensureDataset(scale: number, options: EnsureOptions = {}): Promise<DatasetSummary> {
  const plan = datasetPlan(scale);
  const log = options.log ?? ((line: string) => console.error(`[bench:data] ${line}`));
  const url = options.dbUrl ?? dbUrl();
  const sql = postgres(url, {
    max: LOADERS + 1,
    onnotice: () => {},
    idle_timeout: 5,
    connection: { application_name: "bench-data", statement_timeout: 0 },
  });
  // One generator at a time (two benchmarks started together must not both load).
  const lock = await sql.reserve();
  try {
    await lock`select pg_advisory_lock(hashtext('bench'), hashtext('dataset'))`;
    await waitForInterruptedLoaders(lock, log);
    const existing = await existingDatasets(lock);
    const mine = existing.get(plan.tag);
    if (mine && mine.version === GENERATOR_VERSION && mine.scale === scale) {
      // Retention jobs or hands may have removed rows since: the core tables must still match.
      const drift = await coreDrift(lock, plan, mine.counts);
      if (drift.length === 0) {
        log(
          `data set ${plan.userPrefix}* (scale ${scale}) already complete (${mine.completed_at}); nothing to do`,
        );
        return { plan, generated: false, counts: mine.counts, timings: {}, completedAt: mine.completed_at };
      }
      log(
        `data set ${plan.userPrefix}* changed since it was generated (${
          drift.join(", ")
        }): generating it again`,
      );
    }
    return await generate(sql, lock, plan, existing, options.keepOthers ?? false, log);
  } finally {
    await lock`select pg_advisory_unlock(hashtext('bench'), hashtext('dataset'))`.catch(() => {});
    lock.release();
    await sql.end({ timeout: 5 });
  }
}

async function generate(
  sql: postgres.Sql,
  lock: postgres.ReservedSql,
  plan: DatasetPlan,
  existing: Map<string, Marker | null>,
  keepOthers: boolean,
  log: (line: string) => void,
): Promise<DatasetSummary> {
  const started = performance.now();
  const timings: Record<string, number> = {};
  const [{ inbox_exists: hasInbox }] = await lock`
    select to_regclass('private.clerk_webhook_inbox') is not null as inbox_exists`;
  // The audit log accepts entries only through audit.append() (its guard triggers fire ALWAYS).
  const [{ audit_append: hasAudit }] = await lock`
    select to_regprocedure('audit.append(text, text, text, text, jsonb)') is not null as audit_append`;
  const clock = await generationClock(lock);

  log(
    `generating scale ${plan.scale} as ${plan.userPrefix}*: ${fmt(plan.users)} users, ${
      fmt(plan.projects)
    } projects ` +
      `(${plan.heavyUsers} heavy users x ${fmt(plan.heavyProjectsPerUser)}), ${fmt(plan.tabs)} tabs, ` +
      `${fmt(plan.history)} history rows` +
      (hasInbox ? `, ${fmt(plan.inbox)} webhook inbox rows` : ", no webhook inbox table") +
      (hasAudit ? `, ${fmt(plan.users)} audit rows (audit.append)` : ", no audit log"),
  );

  // Loading sessions: triggers (history, audit, tombstone check) and FK checks off.
  const loaders = await Promise.all(Array.from({ length: LOADERS }, () => sql.reserve()));
  try {
    for (const loader of loaders) await loader`set session_replication_role = replica`;

    const stale = [...existing.keys()].filter((tag) => tag === plan.tag || !keepOthers);
    if (stale.length > 0) {
      const since = performance.now();
      for (const tag of stale) {
        log(
          tag === plan.tag
            ? `removing the incomplete or outdated ${tag} data set`
            : `replacing data set ${tag}`,
        );
        await deleteDataset(loaders[0], `${BENCH_PREFIX}${tag}`, hasInbox, log);
      }
      timings.cleanup = (performance.now() - since) / 1000;
    }

    const stages: Array<
      { name: string; key?: string; rows: number; parts: Array<{ rows: number; sql: string }> }
    > = [
      {
        name: "users",
        rows: plan.users,
        parts: chunks(plan.users, 50_000).map(([lo, hi]) => ({
          rows: hi - lo + 1,
          sql: usersSql(plan, clock, lo, hi),
        })),
      },
      {
        name: "projects",
        rows: plan.projects,
        parts: chunks(plan.projects, 50_000).map(([lo, hi]) => ({
          rows: hi - lo + 1,
          sql: projectsSql(plan, clock, lo, hi),
        })),
      },
      {
        name: "tabs",
        rows: plan.tabs,
        parts: chunks(plan.projects, 40_000).map(([lo, hi]) => ({
          rows: 5 * (hi - lo + 1),
          sql: tabsSql(plan, clock, lo, hi),
        })),
      },
      {
        name: "history",
        rows: plan.history,
        parts: chunks(plan.projects, 20_000).map(([lo, hi]) => ({
          rows: 10 * (hi - lo + 1),
          sql: historySql(plan, clock, lo, hi),
        })),
      },
      ...(hasInbox
        ? [{
          name: "webhook inbox",
          key: "webhook_inbox",
          rows: plan.inbox,
          parts: chunks(plan.users, 50_000).map(([lo, hi]) => ({
            rows: 3 * (hi - lo + 1),
            sql: inboxSql(plan, clock, lo, hi),
          })),
        }]
        : []),
    ];

    const counts: Record<string, number> = {};
    for (const stage of stages) {
      const since = performance.now();
      let done = 0;
      let inserted = 0;
      const queue = [...stage.parts];
      await Promise.all(loaders.map(async (loader) => {
        for (let part = queue.shift(); part; part = queue.shift()) {
          const result = await loader.unsafe(part.sql);
          inserted += result.count;
          done += part.rows;
          log(
            `${stage.name.padEnd(13)} ${fmt(done).padStart(11)} / ${fmt(stage.rows)} rows ` +
              `(${Math.round((100 * done) / stage.rows)}%)  ${elapsed(since)}  total ${elapsed(started)}`,
          );
        }
      }));
      counts[stage.key ?? stage.name] = inserted;
      timings[stage.key ?? stage.name] = (performance.now() - since) / 1000;
    }

    if (hasAudit) {
      // Through audit.append(), the only way in: it stamps actor (application_name `bench-data`,
      // kind `database`), time and role from the session, and the sealer chains the entries.
      const since = performance.now();
      const [{ appended }] = await lock.unsafe(`
        select count(audit.append('data.insert', 'public', 'users', '${plan.userPrefix}' || g.n,
                                  jsonb_build_object('bench', '${plan.tag}'))) as appended
        from generate_series(0, ${plan.users - 1}) as g(n)`);
      counts.audit = Number(appended);
      timings.audit = (performance.now() - since) / 1000;
      log(`audit         ${fmt(counts.audit)} entries through audit.append()  ${elapsed(since)}`);
    }

    // Completion marker, written last: a data set without it is incomplete.
    const completedAt = new Date().toISOString();
    const marker: Marker = {
      version: GENERATOR_VERSION,
      scale: plan.scale,
      counts,
      completed_at: completedAt,
    };
    await loaders[0]`
      update public.users
      set preferences = preferences || ${sql.json({ [MARKER_KEY]: marker } as unknown as postgres.JSONValue)}
      where id = ${benchUserId(plan, 0)}`;

    const since = performance.now();
    log("vacuum (analyze) ...");
    const tables = ["public.users", "public.projects", "public.workspace_tabs", "public.workspace_history"];
    if (hasInbox) tables.push("private.clerk_webhook_inbox");
    if (hasAudit) tables.push("audit.log");
    await Promise.all(tables.map((table, i) => loaders[i % LOADERS].unsafe(`vacuum (analyze) ${table}`)));
    timings.vacuum_analyze = (performance.now() - since) / 1000;
    timings.total = (performance.now() - started) / 1000;
    log(
      `done in ${timings.total.toFixed(1)} s: ` +
        Object.entries(timings).map(([stage, seconds]) => `${stage} ${seconds.toFixed(1)} s`).join(", "),
    );
    return { plan, generated: true, counts, timings, completedAt };
  } finally {
    for (const loader of loaders) {
      await loader`reset session_replication_role`.catch(() => {});
      loader.release();
    }
  }
}

/**
 * Removes the benchmark data set of `scale`, or every one when no scale is given (audit entries
 * stay: the log is append-only).
 */
export async function dropDatasets(options: EnsureOptions = {}, scale?: number): Promise<void> {
  const only = scale === undefined ? undefined : datasetPlan(scale).tag;
  const log = options.log ?? ((line: string) => console.error(`[bench:data] ${line}`));
  const sql = postgres(options.dbUrl ?? dbUrl(), {
    max: 1,
    onnotice: () => {},
    connection: { application_name: "bench-data", statement_timeout: 0 },
  });
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(hashtext('bench'), hashtext('dataset'))`;
    await waitForInterruptedLoaders(conn, log);
    const [{ inbox_exists: hasInbox }] = await conn`
      select to_regclass('private.clerk_webhook_inbox') is not null as inbox_exists`;
    await conn`set session_replication_role = replica`;
    const tags = [...(await existingDatasets(conn)).keys()].filter((tag) =>
      only === undefined || tag === only
    );
    if (tags.length === 0) log(only ? `no benchmark data set ${only}` : "no benchmark data sets");
    for (const tag of tags) await deleteDataset(conn, `${BENCH_PREFIX}${tag}`, hasInbox, log);
  } finally {
    await conn`reset session_replication_role`.catch(() => {});
    await conn`select pg_advisory_unlock(hashtext('bench'), hashtext('dataset'))`.catch(() => {});
    conn.release();
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.main) {
  const { values } = commandLine({
    drop: { type: "boolean", default: false },
    "keep-others": { type: "boolean", default: false },
    scale: { type: "string" },
  });
  const { drop, "keep-others": keepOthers, scale: scaleArg } = values;
  const scale = Number(scaleArg ?? "0.1");
  if (Number.isNaN(scale)) {
    console.error("usage: deno run -A bench/_data.ts [--scale 0.1] [--keep-others] | --drop [--scale N]");
    Deno.exit(2);
  }
  if (drop) await dropDatasets({}, scaleArg === undefined ? undefined : scale);
  else {
    const summary = await ensureDataset(scale, { keepOthers });
    console.log(JSON.stringify({
      scale: summary.plan.scale,
      tag: summary.plan.tag,
      generated: summary.generated,
      counts: summary.counts,
      timings_s: Object.fromEntries(
        Object.entries(summary.timings).map(([k, v]) => [k, Math.round(v * 10) / 10]),
      ),
      completed_at: summary.completedAt,
    }));
  }
}
