/**
 * Migration discipline, checked with the real tools:
 * - every migration has a rollback; applying them newest first restores the exact schema that
 *   preceded each migration (pg_dump of our schemas, cron jobs, event triggers, publication), and
 *   re-applying each migration reproduces the schema after it. Runs on a scratch cluster.
 * - `supabase db advisors` reports no WARN or ERROR finding;
 * - the committed generated types match `supabase gen types typescript`.
 */
import { assert, assertEquals } from "@std/assert";
import postgres from "postgres";
import { DB_URL, ROLLBACK_PG_PORT, ROOT } from "./_support/env.ts";
import { typescriptOnly } from "../tools/db_types.ts";
import { localDbUrl } from "../tools/settings.ts";

const MIGRATIONS_DIR = `${ROOT}supabase/migrations`;
const ROLLBACKS_DIR = `${ROOT}supabase/rollbacks`;
// A scratch cluster of its own (tools/db.sh bare: the faithful platform, no migrations), so the
// test runs whatever database SUPABASE_DB_URL names, at any PG_PORT.
const SCRATCH_PORT = ROLLBACK_PG_PORT;
const SCRATCH_URL = localDbUrl(SCRATCH_PORT);
const SUPABASE = `${ROOT}node_modules/.bin/supabase`;
/** Every schema the project owns: plpgsql_check lints all of them. */
const PROJECT_SCHEMAS = ["public", "private", "audit", "ops", "privacy"];

/** Runs a command; resolves to its stdout (with `.stderr` attached), throws on a non-zero exit. */
async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(command, { args, env, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`${command} ${args.join(" ")} failed:\n${stderr}\n${stdout}`);
  return Object.assign(stdout, { stderr });
}

function migrationFiles(): string[] {
  return [...Deno.readDirSync(MIGRATIONS_DIR)].map((entry) => entry.name).filter((name) =>
    name.endsWith(".sql")
  )
    .sort();
}

const psqlFile = (url: string, file: string) =>
  run("psql", [url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", file]);

/** Schemas the platform owns; everything else in the database is ours and is compared. */
const PLATFORM_SCHEMAS = ["extensions", "auth", "cron", "supabase_migrations", "tests", "public"];

async function schemaSnapshot(sql: postgres.Sql): Promise<string> {
  const schemas = await sql`
    select nspname from pg_namespace
    where nspname not like 'pg\\_%' and nspname <> 'information_schema' and nspname <> all(${PLATFORM_SCHEMAS})
    order by 1`;
  const dumpArgs = [SCRATCH_URL, "--schema-only", "-n", "public"];
  for (const { nspname } of schemas) dumpArgs.push("-n", nspname);
  const dump = (await run("pg_dump", dumpArgs)).split("\n").filter((line) =>
    !/^(-- Dumped|\\restrict|\\unrestrict)/.test(line)
  ).join("\n");
  const cronJobs = await sql`
    select coalesce(json_agg(j order by j.jobname), '[]') as jobs from (
      select jobname, schedule, command, active from cron.job
    ) j`.catch(() => [{ jobs: "no pg_cron" }]);
  const eventTriggers = await sql`
    select coalesce(json_agg(e order by e.evtname), '[]') as triggers from (
      select evtname, evtevent, evtfoid::regprocedure::text as fn, evtenabled, evttags from pg_event_trigger
    ) e`;
  const publication = await sql`
    select coalesce(json_agg(p order by p.schemaname, p.tablename), '[]') as tables
    from pg_publication_tables p where pubname = 'supabase_realtime'`;
  const extensions =
    await sql`select coalesce(json_agg(extname order by extname), '[]') as names from pg_extension`;
  return [
    dump,
    JSON.stringify(cronJobs[0]),
    JSON.stringify(eventTriggers[0]),
    JSON.stringify(publication[0]),
    JSON.stringify(extensions[0]),
  ].join("\n---\n");
}

function firstDifference(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}:\n  expected: ${a[i]}\n  actual:   ${b[i]}`;
  }
  return "(none)";
}

Deno.test("every migration has a rollback script with the same file name", () => {
  const rollbacks = new Set([...Deno.readDirSync(ROLLBACKS_DIR)].map((entry) => entry.name));
  const missing = migrationFiles().filter((name) => !rollbacks.has(name));
  assertEquals(missing, []);
  const orphans = [...rollbacks].filter((name) => !migrationFiles().includes(name));
  assertEquals(orphans, []);
});

Deno.test({
  name: "rollback round trip: each rollback restores the schema before its migration, and re-applying works",
  sanitizeResources: false,
  fn: async () => {
    const env = { PG_CLUSTER: "pg-scratch", PG_PORT: String(SCRATCH_PORT), SUPABASE_DB_URL: "" };
    await run("bash", ["tools/db.sh", "bare"], env);
    const sql = postgres(SCRATCH_URL, { max: 1, onnotice: () => {} });
    try {
      // Start from an empty project schema: drop what an earlier run left behind.
      await sql.unsafe(`drop schema if exists public cascade; create schema public;
        grant usage on schema public to anon, authenticated, service_role;`);
      for (
        const schema
          of await sql`select nspname from pg_namespace where nspname in ('private','audit','privacy','ops')`
      ) {
        await sql.unsafe(`drop schema ${schema.nspname} cascade`);
      }
      await sql.unsafe(`do $$ begin
        if exists (select 1 from pg_extension where extname = 'pg_cron') then drop extension pg_cron; end if;
      end $$;`);
      // Dropping public dropped the platform's grants and default privileges on it: put them back.
      await run("bash", ["tools/db.sh", "bare"], env);
      // Ours only: the platform's event triggers (supabase_admin's) stay, as on Supabase.
      for (
        const trigger
          of await sql`select evtname from pg_event_trigger where evtowner = current_user::regrole`
      ) {
        await sql.unsafe(`drop event trigger ${trigger.evtname}`);
      }

      const migrations = migrationFiles();
      const before: string[] = [];
      for (const name of migrations) {
        before.push(await schemaSnapshot(sql));
        await psqlFile(SCRATCH_URL, `${MIGRATIONS_DIR}/${name}`);
      }
      const finalSnapshot = await schemaSnapshot(sql);
      const after = [...before.slice(1), finalSnapshot];

      for (let i = migrations.length - 1; i >= 0; i--) {
        const name = migrations[i];
        await psqlFile(SCRATCH_URL, `${ROLLBACKS_DIR}/${name}`);
        const rolledBack = await schemaSnapshot(sql);
        assert(
          rolledBack === before[i],
          `rollback of ${name} differs: ${firstDifference(before[i], rolledBack)}`,
        );
        await psqlFile(SCRATCH_URL, `${MIGRATIONS_DIR}/${name}`);
        const reapplied = await schemaSnapshot(sql);
        assert(
          reapplied === after[i],
          `re-applying ${name} differs: ${firstDifference(after[i], reapplied)}`,
        );
        await psqlFile(SCRATCH_URL, `${ROLLBACKS_DIR}/${name}`);
      }
    } finally {
      await sql.end({ timeout: 1 });
      await run("bash", ["tools/db.sh", "stop"], env).catch(() => {});
    }
  },
});

Deno.test("supabase db advisors: no WARN or ERROR finding", async () => {
  const output = await run(SUPABASE, ["db", "advisors", "--db-url", DB_URL, "--level", "warn"]);
  const start = output.indexOf("[");
  const findings = start >= 0
    ? JSON.parse(output.slice(start)) as { name: string; level: string; detail: string }[]
    : [];
  assertEquals(findings.map((f) => `${f.level} ${f.name}: ${f.detail}`), []);
});

Deno.test("supabase db lint (plpgsql_check): no warning in any schema the project owns", async () => {
  const output = await run(SUPABASE, [
    "db",
    "lint",
    "--db-url",
    DB_URL,
    "--schema",
    PROJECT_SCHEMAS.join(","),
    "--level",
    "warning",
    "--fail-on",
    "warning",
  ]);
  assert(`${output}${output.stderr}`.includes("No schema errors found"), `${output}${output.stderr}`);
});

Deno.test("generated database types are committed and current", async () => {
  const generated = await run(SUPABASE, [
    "gen",
    "types",
    "typescript",
    "--db-url",
    DB_URL,
    "--schema",
    "public",
  ]);
  const committed = await Deno.readTextFile(`${ROOT}supabase/functions/_shared/database.types.ts`);
  assert(
    typescriptOnly(generated).trim() === committed.trim(),
    "supabase/functions/_shared/database.types.ts is stale: run `npm run db:types`",
  );
});
