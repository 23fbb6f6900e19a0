/**
 * Lifecycle jobs, deploys, backups and job/migration status:
 * - the overlap guard of the jobs, with two connections (pgTAP cannot hold a lock from a second
 *   session): a run that overlaps another run of the same job returns `skipped` at once;
 * - GET /admin/jobs and GET /admin/migrations: permission matrix and content;
 * - shipped_migrations.ts is current (drift check of the generated module);
 * - `npm run db:deploy` on a scratch cluster: a database with pending migrations, a migration
 *   blocked by a lock (lock_timeout), a failing migration (stops, nothing half-applied, rollback
 *   printed, audited), nothing pending. Migrations for the scratch come from a temporary copy of
 *   the supabase folder (--workdir): no failing migration ever enters the repository;
 * - `npm run db:restore-check` on the scratch cluster: a fresh backup restores to identical data;
 *   a row altered after the backup is detected; a corrupted dump is refused;
 * - the pure helpers (migration comparison, job problems, restore comparison).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import postgres from "postgres";
import { adminSql, createUser } from "./_support/db.ts";
import { bearer } from "./_support/auth.ts";
import { call } from "./_support/http.ts";
import { DB_URL, DEPLOY_PG_PORT, ROOT } from "./_support/env.ts";
import { SHIPPED_MIGRATIONS } from "../supabase/functions/admin/shipped_migrations.ts";
import { compareMigrations } from "../supabase/functions/_shared/migrations.ts";
import { jobProblems } from "../supabase/functions/admin/routes/jobs.ts";
import type { JobHealthRow } from "../supabase/functions/admin/repositories/jobs.ts";
import { readMigrations, renderModule } from "../tools/gen_shipped_migrations.ts";
import { compareStats, createEventTriggerSql, planRestore } from "../tools/db_restore_check.ts";
import { localDbUrl } from "../tools/settings.ts";

// The deploy and restore tests run on a scratch cluster of their own (tools/db.sh bare: the
// faithful platform, postgres not a superuser), whatever database SUPABASE_DB_URL names.
const SCRATCH_PORT = DEPLOY_PG_PORT;
const SCRATCH_URL = localDbUrl(SCRATCH_PORT);
const SCRATCH_ENV = { PG_CLUSTER: "pg-jobs-test", PG_PORT: String(SCRATCH_PORT), SUPABASE_DB_URL: "" };
const LIFECYCLE_JOBS = [
  "mark-inactive-users",
  "prune-cron-history",
  "prune-webhook-inbox",
  "purge-deleted-projects",
  "trim-workspace-history",
];

async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(command, { args, env, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

const tool = (script: string, args: string[]) =>
  run(Deno.execPath(), ["run", "-A", `${ROOT}tools/${script}`, ...args]);

// =============================================================================================
// Pure helpers
// =============================================================================================

Deno.test("shipped_migrations.ts lists exactly the migrations in supabase/migrations", async () => {
  const committed = await Deno.readTextFile(`${ROOT}supabase/functions/admin/shipped_migrations.ts`);
  assert(
    committed === renderModule(readMigrations()),
    "supabase/functions/admin/shipped_migrations.ts is stale: run " +
      "deno run --allow-read --allow-write=supabase/functions/admin tools/gen_shipped_migrations.ts",
  );
  assertEquals(SHIPPED_MIGRATIONS.map((m) => m.version), readMigrations().map((m) => m.version));
});

Deno.test("compareMigrations: applied, pending (out of order flagged), unknown, renamed", () => {
  const shipped = [
    { version: "20260101000000", name: "a" },
    { version: "20260102000000", name: "b" },
    { version: "20260104000000", name: "d" },
  ];
  const result = compareMigrations(shipped, [
    { version: "20260101000000", name: "a" },
    { version: "20260103000000", name: "c" },
    { version: "20260104000000", name: "d_renamed" },
  ]);
  assertEquals(result.up_to_date, false);
  assertEquals(result.summary, { shipped: 3, applied: 2, pending: 1, unknown: 1 });
  assertEquals(result.applied, [
    { version: "20260101000000", name: "a" },
    { version: "20260104000000", name: "d", recorded_name: "d_renamed" },
  ]);
  assertEquals(result.pending, [{ version: "20260102000000", name: "b", out_of_order: true }]);
  assertEquals(result.unknown, [{ version: "20260103000000", name: "c" }]);
  assertEquals(result.latest_applied, "20260104000000");
  assertEquals(compareMigrations(shipped, []).pending.every((m) => !m.out_of_order), true);
  assertEquals(compareMigrations(shipped, shipped).up_to_date, true);
});

Deno.test("jobProblems names what needs attention and nothing for a healthy job", () => {
  const healthy: JobHealthRow = {
    name: "trim-workspace-history",
    description: "x",
    managed: true,
    scheduled: true,
    active: true,
    schedule: "17 * * * *",
    declared_schedule: "17 * * * *",
    command_matches: true,
    last_status: "succeeded",
    last_started_at: null,
    last_finished_at: null,
    last_duration_ms: 12,
    last_message: "SELECT 1",
    runs_24h: 24,
    failures_24h: 0,
    last_failure_at: null,
    last_failure_message: null,
  };
  assertEquals(jobProblems(healthy), []);
  assertEquals(
    jobProblems({ ...healthy, scheduled: false, active: false, schedule: null, command_matches: null }),
    [
      "not scheduled in pg_cron",
    ],
  );
  assertEquals(
    jobProblems({ ...healthy, active: false, schedule: "0 0 * * *", command_matches: false }),
    [
      "inactive in pg_cron",
      "schedule '0 0 * * *' differs from the declared '17 * * * *'",
      "command differs from the declared one",
    ],
  );
  assertEquals(jobProblems({ ...healthy, last_status: "failed", failures_24h: 2 }), [
    "last run failed",
    "2 failed runs in the last 24 h",
  ]);
  // A job scheduled by someone else (not in ops.jobs) has no declared schedule to differ from.
  assertEquals(
    jobProblems({ ...healthy, managed: false, declared_schedule: null, command_matches: null }),
    [],
  );
});

Deno.test("compareStats: equal, altered, missing, extra, skipped (pg_cron)", () => {
  const source = [
    { schema: "public", table: "a", rows: 2, checksum: "1.1" },
    { schema: "public", table: "b", rows: 2, checksum: "2.2" },
    { schema: "public", table: "c", rows: 1, checksum: "3.3" },
    { schema: "public", table: "d", rows: 1, checksum: "4.4" },
    { schema: "cron", table: "job", rows: 5, checksum: "5.5" },
  ];
  const restored = [
    { schema: "public", table: "a", rows: 2, checksum: "1.1" },
    { schema: "public", table: "b", rows: 2, checksum: "2.9" },
    { schema: "public", table: "c", rows: 0, checksum: "0.0" },
    { schema: "public", table: "e", rows: 1, checksum: "6.6" },
  ];
  assertEquals(
    compareStats(source, restored).map((row) => [`${row.schema}.${row.table}`, row.result, row.detail]),
    [
      ["public.a", "ok", ""],
      ["public.b", "DIFFERENT", "content checksum differs"],
      ["public.c", "DIFFERENT", "row count differs"],
      ["public.d", "MISSING", "table not in the restored database"],
      ["cron.job", "skipped", "pg_cron is not restored into a scratch database"],
      ["public.e", "EXTRA", "table not in the source"],
    ],
  );
});

Deno.test("planRestore: leaves out what a non-superuser cannot restore, keeps the rest", () => {
  const toc = [
    ";",
    "; Archive created at 2026-12-01",
    "18; 2615 2200 SCHEMA - public pg_database_owner",
    "4989; 0 0 ACL - SCHEMA public pg_database_owner",
    "12; 2615 16628 SCHEMA - audit postgres",
    "230; 1259 16500 TABLE public projects postgres",
    "231; 1259 16501 TABLE public platform_thing supabase_admin",
    "5001; 826 16600 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES supabase_admin",
    "5002; 826 16601 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES postgres",
    "5003; 3466 16700 EVENT TRIGGER - audit_sql_drop postgres",
    "5004; 0 0 COMMENT - EVENT TRIGGER audit_sql_drop postgres",
    "5005; 3079 16800 EXTENSION - pg_cron ",
  ].join("\n");
  const plan = planRestore(toc, "postgres", new Set(["postgres", "pg_database_owner", "anon"]));
  assertEquals(plan.list.split("\n").filter((line) => /^\d/.test(line)).map((line) => line.split(";")[0]), [
    "4989",
    "12",
    "230",
    "231",
    "5002",
  ]);
  assertEquals(plan.foreignOwners, ["supabase_admin"]);
  assertEquals(plan.skipped.length, 5);
  assertEquals(
    createEventTriggerSql({
      name: "t",
      event: "ddl_command_end",
      tags: ["CREATE TABLE"],
      function: "audit.capture_ddl()",
      enabled: "A",
      comment: "it's",
    }),
    "create event trigger \"t\" on ddl_command_end when tag in ('CREATE TABLE') execute function audit.capture_ddl();\n" +
      "alter event trigger \"t\" enable always;\ncomment on event trigger \"t\" is 'it''s';",
  );
});

// =============================================================================================
// Overlap guard (two connections to the shared database; every change is rolled back)
// =============================================================================================

Deno.test({
  name: "overlap guard: a second run of a job while one is in progress returns skipped at once",
  sanitizeResources: false,
  fn: async () => {
    const first = postgres(DB_URL, { max: 1, onnotice: () => {} });
    const second = postgres(DB_URL, { max: 1, onnotice: () => {} });
    const a = await first.reserve();
    const b = await second.reserve();
    try {
      await a`begin`;
      const [{ result: running }] = await a`select ops.prune_webhook_inbox() as result`;
      assertEquals(
        running.status,
        "completed",
        "the first run holds the job lock until its transaction ends",
      );

      await b`begin`;
      const started = performance.now();
      const [{ result: overlapping }] = await b`select ops.prune_webhook_inbox() as result`;
      const waited = performance.now() - started;
      assertEquals(overlapping.status, "skipped");
      assertEquals(overlapping.reason, "another run holds the job lock");
      assert(
        waited < 2_000,
        `the overlapping run must not wait for the lock (waited ${Math.round(waited)} ms)`,
      );
      const [{ audited }] = await b`
        select count(*)::int as audited from audit.log
         where action = 'job.skipped' and target_id = 'prune-webhook-inbox' and occurred_at = now()`;
      assertEquals(audited, 1, "the skipped run is audited");

      const [{ result: otherJob }] = await b`select ops.prune_cron_history() as result`;
      assertEquals(otherJob.status, "completed", "another job is not blocked: one lock per job name");
      await b`rollback`;

      // The lock goes with the transaction, whatever ends it.
      await a`rollback`;
      await b`begin`;
      const [{ result: after }] = await b`select ops.prune_webhook_inbox() as result`;
      assertEquals(after.status, "completed", "once the first run ended, the job runs again");
      await b`rollback`;
    } finally {
      await a`rollback`.catch(() => {});
      await b`rollback`.catch(() => {});
      a.release();
      b.release();
      await first.end({ timeout: 1 });
      await second.end({ timeout: 1 });
    }
  },
});

// =============================================================================================
// GET /admin/jobs, GET /admin/migrations
// =============================================================================================

Deno.test({
  name: "GET /admin/jobs and /admin/migrations: 401 without a token, 403 for users, 200 for staff",
  sanitizeResources: false,
  fn: async () => {
    const user = await createUser("user", "jobu");
    const support = await createUser("support", "jobs");
    const admin = await createUser("admin", "joba");
    for (const path of ["/jobs", "/migrations"]) {
      assertEquals((await call("admin", path)).status, 401, `${path} without a token`);
      const asUser = await call("admin", path, { headers: await bearer(user) });
      assertEquals(asUser.status, 403, `${path} as a plain user`);
      assertEquals(asUser.headers.get("content-type"), "application/problem+json");
      const asRoleClaim = await call("admin", path, {
        headers: await bearer(user, { claims: { role: "admin" } }),
      });
      assertEquals(asRoleClaim.status, 403, `${path}: a role claim in the token does not make staff`);
      assertEquals(
        (await call("admin", path, { headers: await bearer(support) })).status,
        200,
        `${path} as support`,
      );
      assertEquals(
        (await call("admin", path, { headers: await bearer(admin) })).status,
        200,
        `${path} as admin`,
      );
      const unknownParameter = await call("admin", `${path}?verbose=1`, { headers: await bearer(support) });
      assertEquals(unknownParameter.status, 400, `${path}: unknown query parameters are refused`);
    }
    await adminSql`delete from public.users where id in (${user}, ${support}, ${admin})`;
  },
});

Deno.test({
  name: "GET /admin/jobs: every job with its schedule, last run status and duration, failures in 24 h",
  sanitizeResources: false,
  fn: async () => {
    const support = await createUser("support", "jobh");
    const marker = `ERROR: jobs_test ${crypto.randomUUID()}`;
    const [{ runid }] = await adminSql`
      insert into cron.job_run_details (jobid, runid, status, username, database, command, return_message, start_time, end_time)
      -- An explicit runid (tools/sql/test_helpers.sql): Supabase grants no cron.runid_seq to postgres.
      select c.jobid, tests.cron_runid(), 'failed', c.username, c.database, c.command, ${marker},
             now() - interval '10 minutes', now() - interval '10 minutes' + interval '1500 milliseconds'
        from cron.job c where c.jobname = 'prune-cron-history'
      returning runid::text`;
    try {
      const response = await call("admin", "/jobs", { headers: await bearer(support) });
      assertEquals(response.status, 200);
      const jobs = response.json.data as Record<string, unknown>[];
      const byName = new Map(jobs.map((job) => [job.name as string, job]));
      for (const name of [...LIFECYCLE_JOBS, "audit-checkpoint"]) {
        assert(byName.has(name), `${name} is listed`);
      }
      assertEquals(
        LIFECYCLE_JOBS.map((name) => [name, byName.get(name)!.schedule, byName.get(name)!.managed]),
        [
          ["mark-inactive-users", "37 2 * * *", true],
          ["prune-cron-history", "47 2 * * *", true],
          ["prune-webhook-inbox", "27 * * * *", true],
          ["purge-deleted-projects", "7 * * * *", true],
          ["trim-workspace-history", "17 * * * *", true],
        ],
      );
      assertEquals(
        byName.get("audit-checkpoint")!.managed,
        false,
        "the audit job is scheduled by the audit log",
      );

      const failing = byName.get("prune-cron-history")!;
      const lastRun = failing.last_run as Record<string, unknown>;
      assertEquals(lastRun.status, "failed");
      assertEquals(lastRun.duration_ms, 1500);
      assertEquals(lastRun.message, marker);
      assert((failing.failures_24h as number) >= 1, "failures in the last 24 h are counted");
      assertEquals((failing.last_failure as Record<string, unknown>).message, marker);
      assert((failing.problems as string[]).includes("last run failed"));
      assertEquals(response.json.healthy, false, "one failing job makes the whole answer unhealthy");
    } finally {
      await adminSql`delete from cron.job_run_details where runid = ${runid}::bigint`;
      await adminSql`delete from public.users where id = ${support}`;
    }
  },
});

Deno.test({
  name: "GET /admin/migrations: shipped migrations compared with the database's history",
  sanitizeResources: false,
  fn: async () => {
    const support = await createUser("support", "jobm");
    try {
      const response = await call("admin", "/migrations", { headers: await bearer(support) });
      assertEquals(response.status, 200);
      const body = response.json;
      const applied = await adminSql<{ version: string }[]>`
        select version from supabase_migrations.schema_migrations order by version`;
      const appliedSet = new Set(applied.map((row) => row.version));
      assertEquals(
        body.applied.map((m: { version: string }) => m.version),
        SHIPPED_MIGRATIONS.filter((m) => appliedSet.has(m.version)).map((m) => m.version),
      );
      assertEquals(
        body.pending.map((m: { version: string }) => m.version),
        SHIPPED_MIGRATIONS.filter((m) => !appliedSet.has(m.version)).map((m) => m.version),
      );
      const shippedSet = new Set(SHIPPED_MIGRATIONS.map((m) => m.version));
      assertEquals(
        body.unknown.map((m: { version: string }) => m.version),
        applied.map((row) => row.version).filter((version) => !shippedSet.has(version)),
      );
      assertEquals(body.summary.shipped, SHIPPED_MIGRATIONS.length);
      assert(
        appliedSet.has("20261121140400") &&
          body.applied.some((m: { version: string }) => m.version === "20261121140400"),
      );
    } finally {
      await adminSql`delete from public.users where id = ${support}`;
    }
  },
});

// =============================================================================================
// Scratch cluster: db:deploy and db:restore-check
// =============================================================================================

/** Starts the scratch cluster (platform bootstrap only) and empties it of everything ours. */
async function freshScratch(): Promise<postgres.Sql> {
  const bare = await run("bash", ["tools/db.sh", "bare"], SCRATCH_ENV);
  assertEquals(bare.code, 0, bare.stderr);
  const sql = postgres(SCRATCH_URL, { max: 1, onnotice: () => {} });
  // Ours only: the platform's event triggers (supabase_admin's) stay, as on Supabase.
  for (
    const { evtname }
      of await sql`select evtname from pg_event_trigger where evtowner = current_user::regrole`
  ) {
    await sql.unsafe(`drop event trigger "${evtname}"`);
  }
  for (
    const { datname } of await sql`select datname from pg_database where datname like 'restore\\_check\\_%'`
  ) {
    await sql.unsafe(`drop database "${datname}" with (force)`);
  }
  await sql.unsafe(`
    drop schema if exists public cascade; create schema public;
    grant usage on schema public to anon, authenticated, service_role;
    drop schema if exists private cascade; drop schema if exists audit cascade; drop schema if exists ops cascade;
    drop schema if exists privacy cascade; drop schema if exists supabase_migrations cascade;
    drop extension if exists pg_cron;`);
  // Dropping public dropped the platform's grants and default privileges on it: put them back.
  const again = await run("bash", ["tools/db.sh", "bare"], SCRATCH_ENV);
  assertEquals(again.code, 0, again.stderr);
  return sql;
}

async function stopScratch() {
  await run("bash", ["tools/db.sh", "stop"], SCRATCH_ENV);
}

/** A temporary copy of the supabase folder (config and migrations) to deploy from. */
async function workdirWith(extra: Record<string, string> = {}, withoutLast = 0): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "jobs-deploy-" });
  await Deno.mkdir(`${dir}/supabase/migrations`, { recursive: true });
  await Deno.copyFile(`${ROOT}supabase/config.toml`, `${dir}/supabase/config.toml`);
  const files = [...Deno.readDirSync(`${ROOT}supabase/migrations`)].map((e) => e.name).filter((n) =>
    n.endsWith(".sql")
  )
    .sort();
  for (const name of files.slice(0, files.length - withoutLast)) {
    await Deno.copyFile(`${ROOT}supabase/migrations/${name}`, `${dir}/supabase/migrations/${name}`);
  }
  for (const [name, content] of Object.entries(extra)) {
    await Deno.writeTextFile(`${dir}/supabase/migrations/${name}`, content);
  }
  return dir;
}

async function deployTo(workdir: string, backupDir: string, ...extra: string[]) {
  return await tool("db_deploy.ts", [
    "--db-url",
    SCRATCH_URL,
    "--workdir",
    workdir,
    "--backup-dir",
    backupDir,
    ...extra,
  ]);
}

Deno.test({
  name:
    "db:deploy: backup first, pending migrations under lock/statement timeouts, audited; failures stop with the rollback",
  sanitizeResources: false,
  fn: async (t) => {
    const sql = await freshScratch();
    const backupDir = await Deno.makeTempDir({ prefix: "jobs-backups-" });
    const dirs: string[] = [];
    try {
      await t.step("a database with pending migrations: backup, apply, record", async () => {
        const workdir = await workdirWith({}, 1);
        dirs.push(workdir);
        const first = await deployTo(workdir, backupDir);
        assertEquals(first.code, 0, first.stdout + first.stderr);
        // One more pending: the repository's last migration plus a probe of the session settings.
        const probe = `do $$ begin
            if current_setting('lock_timeout') <> '5s' or current_setting('statement_timeout') <> '10min' then
              raise exception 'timeouts not set: lock_timeout=% statement_timeout=%',
                current_setting('lock_timeout'), current_setting('statement_timeout');
            end if;
          end $$;
          create table public.deploy_probe (id int);`;
        const next = await workdirWith({ "29990101000000_deploy_probe.sql": probe });
        dirs.push(next);
        const lastShipped = readMigrations().at(-1)!.version;
        const before = [...Deno.readDirSync(backupDir)].length;
        const result = await deployTo(next, backupDir);
        assertEquals(result.code, 0, result.stdout + result.stderr);
        assertMatch(result.stdout, /pending \(2\):/);
        assertStringIncludes(result.stdout, `applied ${lastShipped}_`);
        assertStringIncludes(result.stdout, "applied 29990101000000_deploy_probe");
        const backups = [...Deno.readDirSync(backupDir)].map((e) => e.name).filter((n) =>
          n.endsWith("_pre-deploy.dump")
        );
        assertEquals(
          backups.length,
          before / 2 + 1,
          "a new pg_dump -Fc backup (with its manifest) per deploy",
        );
        const latest = backups.sort().at(-1)!;
        const header = new TextDecoder().decode((await Deno.readFile(`${backupDir}/${latest}`)).slice(0, 5));
        assertEquals(header, "PGDMP", "custom-format dump");
        assert((await Deno.stat(`${backupDir}/${latest}.manifest.json`)).isFile);
        const [{ created }] = await sql`select to_regclass('public.deploy_probe') is not null as created`;
        assertEquals(created, true, "the timeouts were set (the probe migration checks them)");
        const [entry] = await sql`
          select actor, details from audit.log where action = 'db.deploy' order by id desc limit 1`;
        assertEquals(entry.actor, "db:deploy");
        assertEquals(entry.details.outcome, "applied");
        assertEquals(entry.details.applied, [lastShipped, "29990101000000"]);
        assertEquals(entry.details.backup, latest);
        const [{ ddl }] = await sql`
          select count(*)::int as ddl from audit.log
           where action = 'schema.ddl' and actor = 'db:deploy' and target_id = 'public.deploy_probe'`;
        assertEquals(ddl, 1, "the migration's DDL is attributed to the deploy");
      });

      await t.step("a migration blocked by a lock fails after lock_timeout instead of queueing", async () => {
        const blocked = await workdirWith({
          "29990101000000_deploy_probe.sql": "create table public.deploy_probe (id int);",
          "29990102000000_needs_lock.sql": "alter table public.deploy_probe add column blocked int;",
        });
        dirs.push(blocked);
        const holder = postgres(SCRATCH_URL, { max: 1, onnotice: () => {} });
        const connection = await holder.reserve();
        try {
          await connection`begin`;
          await connection`lock table public.deploy_probe in access share mode`;
          const started = performance.now();
          const result = await deployTo(blocked, backupDir, "--lock-timeout", "1s");
          const seconds = (performance.now() - started) / 1000;
          assertEquals(result.code, 1, result.stdout);
          assertStringIncludes(result.stdout, "lock timeout");
          assertStringIncludes(result.stdout, "failed migration: 29990102000000_needs_lock");
          assert(seconds < 30, `failed fast (${seconds.toFixed(1)} s)`);
        } finally {
          await connection`rollback`.catch(() => {});
          connection.release();
          await holder.end({ timeout: 1 });
        }
      });

      await t.step(
        "a failing migration: stops, nothing half-applied, rollback printed, audited",
        async () => {
          const failing = await workdirWith({
            "29990101000000_deploy_probe.sql": "create table public.deploy_probe (id int);",
            "29990103000000_good.sql": "create table public.deploy_good (id int);",
            "29990104000000_broken.sql": "create table public.deploy_half (id int);\nselect 1 / 0;",
            "29990105000000_after.sql": "create table public.deploy_after (id int);",
          });
          dirs.push(failing);
          const result = await deployTo(failing, backupDir);
          assertEquals(result.code, 1, result.stdout);
          assertStringIncludes(result.stdout, "deploy FAILED");
          assertStringIncludes(result.stdout, "division by zero");
          assertStringIncludes(result.stdout, "failed migration: 29990104000000_broken");
          assertStringIncludes(result.stdout, "applied by this deploy before the failure: 29990103000000");
          assertStringIncludes(result.stdout, "not applied: 29990104000000, 29990105000000");
          assertStringIncludes(
            result.stdout,
            `--single-transaction -f ${failing}/supabase/rollbacks/29990103000000_good.sql`,
          );
          assertStringIncludes(result.stdout, "migration repair");
          assertMatch(
            result.stdout,
            /db:restore-check -- --backup .*_pre-deploy\.dump --restore-into "\$DB_URL"/,
          );
          const [tables] = await sql`
          select to_regclass('public.deploy_good') is not null as good,
                 to_regclass('public.deploy_half') is not null as half,
                 to_regclass('public.deploy_after') is not null as after`;
          assertEquals(
            tables,
            { good: true, half: false, after: false },
            "the migration before the failure only",
          );
          const versions =
            (await sql`select version from supabase_migrations.schema_migrations where version > '2999'`)
              .map((row) => row.version);
          assertEquals(versions, ["29990101000000", "29990103000000"]);
          const [entry] =
            await sql`select details from audit.log where action = 'db.deploy' order by id desc limit 1`;
          assertEquals(entry.details.outcome, "failed");
          assertEquals(entry.details.failed, "29990104000000");
          assertEquals(entry.details.applied, ["29990103000000"]);
        },
      );

      await t.step("nothing pending: says so, takes no backup", async () => {
        const done = await workdirWith({
          "29990101000000_deploy_probe.sql": "create table public.deploy_probe (id int);",
          "29990103000000_good.sql": "create table public.deploy_good (id int);",
        });
        dirs.push(done);
        const before = [...Deno.readDirSync(backupDir)].length;
        const result = await deployTo(done, backupDir);
        assertEquals(result.code, 0, result.stdout + result.stderr);
        assertStringIncludes(result.stdout, "up to date");
        assertEquals([...Deno.readDirSync(backupDir)].length, before);
      });

      await t.step("migrations applied that this repository does not ship: refuses", async () => {
        const result = await deployTo(await workdirWith(), backupDir);
        assertEquals(result.code, 1);
        assertStringIncludes(result.stdout, "does not ship: 29990101000000, 29990103000000");
      });
    } finally {
      await sql.end({ timeout: 1 });
      for (const dir of [...dirs, backupDir]) await Deno.remove(dir, { recursive: true }).catch(() => {});
      await stopScratch();
    }
  },
});

Deno.test({
  name:
    "db:restore-check as non-superuser postgres: a backup restores to identical data, grants and event triggers; an altered row and a corrupted dump are detected; --restore-into replaces a live database",
  sanitizeResources: false,
  fn: async () => {
    const sql = await freshScratch();
    const backupDir = await Deno.makeTempDir({ prefix: "jobs-restore-" });
    try {
      const [{ superuser }] =
        await sql`select rolsuper as superuser from pg_roles where rolname = current_user`;
      assertEquals(superuser, false, "the scratch platform's postgres is not a superuser, as on Supabase");
      const up = await run(`${ROOT}node_modules/.bin/supabase`, [
        "migration",
        "up",
        `--remote=${SCRATCH_URL}`,
        "--include-all",
        "--yes",
      ]);
      assertEquals(up.code, 0, up.stderr + up.stdout);
      // Data in the project's tables, the audit log (its triggers), the webhook inbox and pg_cron.
      await sql`insert into public.users (id, email, role) values ('user_rcA', 'a@example.invalid', 'user'),
                                                                    ('user_rcB', 'b@example.invalid', 'support')`;
      await sql`insert into public.projects (user_id, name, metadata) values ('user_rcA', 'Alpha', '{"n": 1.5}'),
                                                                             ('user_rcB', 'Beta', '{}')`;
      await sql`insert into private.clerk_webhook_inbox (svix_id, event_type, received_at, outcome)
                values ('msg_rc1', 'user.created', '2026-01-01T00:00:00Z', 'applied')`;

      const backup = `${backupDir}/private/source.dump`;
      const taken = await tool("db_backup.ts", ["--db-url", SCRATCH_URL, "--out", backup]);
      assertEquals(taken.code, 0, taken.stderr);
      assertEquals((await Deno.stat(`${backupDir}/private`)).mode! & 0o777, 0o700, "backup folder 0700");
      assertEquals((await Deno.stat(backup)).mode! & 0o777, 0o600, "dump 0600 (personal data)");
      assertEquals((await Deno.stat(`${backup}.manifest.json`)).mode! & 0o777, 0o600, "manifest 0600");
      const manifest = JSON.parse(await Deno.readTextFile(`${backup}.manifest.json`));
      assertEquals(manifest.schemas, ["public", "private", "audit", "ops", "privacy", "supabase_migrations"]);
      assertEquals(
        manifest.tables.find((t: { schema: string; table: string }) =>
          t.schema === "public" && t.table === "projects"
        )
          .rows,
        2,
      );
      assertEquals(
        manifest.tables.filter((t: { schema: string }) => ["cron", "auth", "extensions"].includes(t.schema)),
        [],
        "the platform's schemas are not backed up",
      );
      assertEquals(
        manifest.event_triggers.map((t: { name: string }) => t.name),
        ["audit_ddl_command_end", "audit_sql_drop"],
      );
      const toc = await run("pg_restore", ["--list", backup]);
      assert(!/ SCHEMA - (cron|auth|extensions) /.test(toc.stdout), "no platform schema in the dump");

      // The database moves on after the backup: the manifest (same snapshot as the dump) still matches.
      // Restored into a scratch database on the source's own server (the default), as postgres.
      await sql`update public.projects set name = 'Alpha (renamed)' where name = 'Alpha'`;
      const ok = await tool("db_restore_check.ts", ["--db-url", SCRATCH_URL, "--backup", backup]);
      assertEquals(ok.code, 0, ok.stdout + ok.stderr);
      assertMatch(ok.stdout, /public\.projects\s+2\s+2\s+ok/);
      assertMatch(ok.stdout, /audit\.log\s+(\d+)\s+\1\s+ok/);
      assertStringIncludes(ok.stdout, "event trigger audit_ddl_command_end: ok");
      assertStringIncludes(ok.stdout, "supabase_realtime publishes public.projects: ok");
      assertStringIncludes(ok.stdout, "privileges (grants, column grants, policy roles): ok");
      assertStringIncludes(
        ok.stderr,
        "left out DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES supabase_admin",
      );
      assertStringIncludes(ok.stdout, "restore-check OK");

      // Compared with the live source, the altered row shows, and only its table differs.
      const altered = await tool("db_restore_check.ts", [
        "--db-url",
        SCRATCH_URL,
        "--backup",
        backup,
        "--against-source",
      ]);
      assertEquals(altered.code, 1, altered.stdout + altered.stderr);
      assertMatch(altered.stdout, /public\.projects\s+2\s+2\s+DIFFERENT\s+content checksum differs/);
      assertMatch(altered.stdout, /public\.users\s+2\s+2\s+ok/);
      assertStringIncludes(altered.stdout, "restore-check FAILED");

      // Without --backup: a fresh backup, restored and compared in one go.
      const fresh = await tool("db_restore_check.ts", ["--db-url", SCRATCH_URL, "--backup-dir", backupDir]);
      assertEquals(fresh.code, 0, fresh.stdout + fresh.stderr);
      assertMatch(fresh.stdout, /public\.projects\s+2\s+2\s+ok/);

      // The real restore, over the live database (its event triggers, default privileges and
      // publication in place): the renamed row is back, grants and event triggers as before.
      const restored = await tool("db_restore_check.ts", [
        "--db-url",
        SCRATCH_URL,
        "--backup",
        backup,
        "--restore-into",
        SCRATCH_URL,
      ]);
      assertEquals(restored.code, 0, restored.stdout + restored.stderr);
      assertStringIncludes(restored.stdout, "privileges (grants, column grants, policy roles): ok");
      const [{ name }] = await sql`select name from public.projects where user_id = 'user_rcA'`;
      assertEquals(name, "Alpha", "the backup's row is back");
      const triggers = await sql`
        select evtname, evtowner::regrole::text as owner, evtenabled from pg_event_trigger order by 1`;
      assertEquals(
        triggers.filter((t) => t.owner === "postgres").map((t) => `${t.evtname} ${t.evtenabled}`),
        ["audit_ddl_command_end A", "audit_sql_drop A"],
      );
      assert(
        triggers.some((t) => t.owner === "supabase_admin"),
        "the platform's event triggers are untouched",
      );

      // A corrupted dump never gets as far as a restore.
      const bytes = await Deno.readFile(backup);
      bytes[bytes.length - 10] ^= 0xff;
      await Deno.writeFile(backup, bytes);
      const corrupted = await tool("db_restore_check.ts", ["--db-url", SCRATCH_URL, "--backup", backup]);
      assertEquals(corrupted.code, 1);
      assertStringIncludes(corrupted.stderr, "does not match its manifest");

      const [{ leftovers }] = await sql`
        select count(*)::int as leftovers from pg_database where datname like 'restore\\_check\\_%'`;
      assertEquals(leftovers, 0, "scratch databases are dropped");
    } finally {
      await sql.end({ timeout: 1 });
      await Deno.remove(backupDir, { recursive: true }).catch(() => {});
      await stopScratch();
    }
  },
});

// =============================================================================================
// README's deploy block, against the pinned CLI and the faithful platform
// =============================================================================================

const SUPABASE_CLI = `${ROOT}node_modules/.bin/supabase`;

/** The `npx supabase ...` lines of README's deploy block, as argument lists (comments dropped). */
async function readmeDeployCommands(): Promise<string[][]> {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const section = readme.slice(readme.indexOf("## Deploying to a Supabase project"));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("README has no deploy block");
  return block[1].split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line.startsWith("npx supabase "))
    .map((line) => line.split(/\s+/).slice(2));
}

/** The subcommand path of a CLI call: its leading words that are not flags, at most two. */
function commandPath(words: string[]): string[] {
  const path: string[] = [];
  for (const word of words) {
    if (word.startsWith("-") || word.startsWith("<") || path.length === 2) break;
    path.push(word);
  }
  return path;
}

Deno.test("README deploy block: every subcommand and flag exists in the pinned CLI; db push names its target; every function is deployed", async () => {
  const commands = await readmeDeployCommands();
  const paths = commands.map((words) => commandPath(words).join(" "));
  for (const required of ["link", "db push", "secrets set", "functions deploy"]) {
    assert(paths.includes(required), `the deploy block has no \`supabase ${required}\``);
  }
  for (const words of commands) {
    const path = commandPath(words);
    const help = await run(SUPABASE_CLI, [...path, "--help"]);
    assertEquals(help.code, 0, `supabase ${path.join(" ")} --help: ${help.stderr}`);
    assertStringIncludes(
      help.stdout,
      `supabase ${path.join(" ")} [flags]`,
      `not a command: ${path.join(" ")}`,
    );
    for (const flag of words.filter((word) => word.startsWith("--"))) {
      const name = flag.split("=")[0];
      assert(
        new RegExp(`(^|\\s)${name}(\\[|\\s|=)`, "m").test(help.stdout),
        `supabase ${path.join(" ")} has no flag ${name}`,
      );
    }
  }
  // CLI 3.x: `db push` without a target pushes to the LOCAL database.
  const push = commands.find((words) => commandPath(words).join(" ") === "db push")!;
  assert(push.some((word) => /^--(remote|db-url)\b/.test(word)), "db push must name its target (--remote)");
  const deployed = commands.find((words) => commandPath(words).join(" ") === "functions deploy")!
    .slice(2).filter((word) => !word.startsWith("-")).sort();
  const functions: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}supabase/functions`)) {
    if (entry.isDirectory && !entry.name.startsWith("_")) functions.push(entry.name);
  }
  assertEquals(deployed, functions.sort(), "functions deploy must name every function");
});

Deno.test({
  name:
    "README deploy block: its db push, aimed at a fresh database of the local platform, applies every migration as a non-superuser postgres",
  sanitizeResources: false,
  fn: async () => {
    const sql = await freshScratch();
    try {
      const push = (await readmeDeployCommands()).find((words) =>
        commandPath(words).join(" ") === "db push"
      )!;
      // The linked project (`--remote`) is replaced by the scratch database; `--yes` answers the prompt.
      const args = push.map((word) => word === "--remote" ? `--remote=${SCRATCH_URL}` : word);
      const result = await run(SUPABASE_CLI, [...args, "--yes"]);
      assertEquals(result.code, 0, result.stderr + result.stdout);
      const [{ superuser }] =
        await sql`select rolsuper as superuser from pg_roles where rolname = current_user`;
      assertEquals(superuser, false, "the platform's postgres must not be a superuser");
      const applied = await sql`select version from supabase_migrations.schema_migrations order by version`;
      const files = readMigrations().map((migration) => migration.version);
      assertEquals(applied.map((row) => row.version), files);
    } finally {
      await sql.end();
    }
  },
});
