/**
 * `npm run db:deploy`: applies pending migrations safely.
 *
 *   npm run db:deploy -- [--db-url URL] [--workdir DIR] [--lock-timeout 5s] [--statement-timeout 10min]
 *                        [--backup-dir DIR] [--dry-run]
 *
 * 1. Compares supabase/migrations (of --workdir, default this repository) with the target's
 *    supabase_migrations.schema_migrations: pending, and unknown (applied but not shipped here,
 *    which stops the deploy: it was made from another branch).
 * 2. Nothing pending: says so and stops. Otherwise takes a backup first (pg_dump -Fc + manifest,
 *    tools/db_backup.ts); no backup, no deploy.
 * 3. Applies the pending migrations with the Supabase CLI (`supabase migration up --include-all`),
 *    each in its own transaction, under lock_timeout (a migration waiting for a lock fails fast
 *    instead of queueing every query behind it) and statement_timeout; the session carries the
 *    actor `db:deploy` so the DDL audit entries name the deploy.
 * 4. Records the deploy in the audit log (audit.append 'db.deploy', outcome and versions).
 * 5. On failure stops and prints what was applied, what failed, and the rollback steps.
 *
 * Target: --db-url, else SUPABASE_DB_URL, else the local stack (127.0.0.1:$PG_PORT). On Supabase use the direct
 * connection or the session pooler (the transaction pooler does not take session options).
 */
import {
  BACKUP_DIR,
  connect,
  maskUrl,
  ROOT,
  runCommand,
  takeBackup,
  targetUrl,
  utcStamp,
} from "./db_backup.ts";
import { isCurrent, readMigrations } from "./gen_shipped_migrations.ts";
import { commandLine } from "./settings.ts";
import { compareMigrations } from "../supabase/functions/_shared/migrations.ts";
import type { AppliedMigration, ShippedMigration } from "../supabase/functions/_shared/migrations.ts";

const SUPABASE = `${ROOT}node_modules/.bin/supabase`;
const DURATION = /^\d+(ms|s|min|h)?$/;
const DEPLOY_ACTOR = "db:deploy";

async function appliedMigrations(url: string): Promise<AppliedMigration[]> {
  const sql = connect(url, DEPLOY_ACTOR);
  try {
    return await sql<AppliedMigration[]>`
      select version, name from supabase_migrations.schema_migrations order by version`.catch((error) => {
      if (error?.code === "42P01" || error?.code === "3F000") return []; // never migrated by the CLI
      throw error;
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Appends the deploy to the audit log when the target has one; says why not otherwise. */
async function recordDeploy(url: string, details: Record<string, unknown>): Promise<string> {
  const sql = connect(url, DEPLOY_ACTOR);
  try {
    const [{ present }] = await sql`
      select to_regprocedure('audit.append(text, text, text, text, jsonb)') is not null as present`;
    if (!present) return "not recorded: the target has no audit.append()";
    const [{ id }] = await sql`
      select audit.append('db.deploy', 'supabase_migrations', 'schema_migrations', null, ${
      sql.json(details as never)
    })::text as id`;
    return `recorded in the audit log (entry ${id}, action db.deploy)`;
  } catch (error) {
    return `not recorded: ${error instanceof Error ? error.message : error}`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function rollbackSteps(applied: readonly ShippedMigration[], workdir: string, backup: string): string[] {
  const lines: string[] = [];
  if (applied.length > 0) {
    lines.push(
      "  Undo the migrations this deploy applied, newest first (DB_URL = the target above, with its password):",
    );
    for (const migration of [...applied].reverse()) {
      const file = `${migration.version}_${migration.name}.sql`;
      lines.push(
        `    psql "$DB_URL" -v ON_ERROR_STOP=1 --single-transaction -f ${workdir}/supabase/rollbacks/${file}`,
        `    npx supabase migration repair --remote="$DB_URL" --status reverted ${migration.version} --yes --workdir ${workdir}`,
      );
    }
  }
  lines.push(
    "  Last resort, if the rollback scripts cannot repair it (loses every write made since the backup):",
    // A plain `pg_restore --clean` fails as Supabase's non-superuser postgres (event triggers,
    // supabase_admin's default privileges): db:restore-check --restore-into handles both.
    `    npm run db:restore-check -- --backup ${backup} --restore-into "$DB_URL"`,
  );
  return lines;
}

export interface DeployOptions {
  url: string;
  workdir: string;
  lockTimeout: string;
  statementTimeout: string;
  backupDir: string;
  dryRun: boolean;
  log?: (line: string) => void;
}

/** Runs a deploy; resolves to the process exit code (0 deployed or nothing to do, 1 failed). */
export async function deploy(options: DeployOptions): Promise<number> {
  const log = options.log ?? ((line: string) => console.log(line));
  const started = performance.now();
  log(`target: ${maskUrl(options.url)}`);

  const shipped = readMigrations(`${options.workdir}/supabase/migrations`);
  const before = compareMigrations(shipped, await appliedMigrations(options.url));
  const { pending, unknown } = before;

  if (unknown.length > 0) {
    log(
      `the target has migrations this repository does not ship: ${unknown.map((m) => m.version).join(", ")}`,
    );
    log(
      "deploy from the branch that has them, or repair the history (docs/RUNBOOK.md, Deploy). Nothing changed.",
    );
    return 1;
  }
  if (pending.length === 0) {
    log(`up to date: ${before.applied.length} migrations applied, nothing pending`);
    return 0;
  }
  log(`pending (${pending.length}):`);
  for (const m of pending) {
    log(
      `  ${m.version}_${m.name}${m.out_of_order ? "  (older than the latest applied: out of order)" : ""}`,
    );
  }
  if (options.dryRun) {
    log("dry run: nothing applied");
    return 0;
  }

  // Backup first: no backup, no deploy.
  let backup: string;
  try {
    ({ path: backup } = await takeBackup({
      url: options.url,
      out: `${options.backupDir}/${utcStamp()}_pre-deploy.dump`,
      log,
    }));
  } catch (error) {
    log(
      `deploy aborted, nothing applied: the backup failed: ${error instanceof Error ? error.message : error}`,
    );
    return 1;
  }

  // Apply with the Supabase CLI, under the timeouts, as the db:deploy actor.
  const sessionOptions = [
    Deno.env.get("PGOPTIONS") ?? "",
    `-c lock_timeout=${options.lockTimeout}`,
    `-c statement_timeout=${options.statementTimeout}`,
    `-c request.jwt.claims={"actor":"${DEPLOY_ACTOR}"}`,
  ].join(" ").trim();
  log(
    `applying with the Supabase CLI (lock_timeout ${options.lockTimeout}, statement_timeout ${options.statementTimeout})`,
  );
  const cli = await runCommand(
    SUPABASE,
    ["migration", "up", `--remote=${options.url}`, "--include-all", "--yes", "--workdir", options.workdir],
    { env: { PGOPTIONS: sessionOptions, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" } },
  );

  const after = new Set(
    compareMigrations(shipped, await appliedMigrations(options.url)).applied.map((m) => m.version),
  );
  const appliedNow = pending.filter((m) => after.has(m.version));
  const stillPending = pending.filter((m) => !after.has(m.version));
  const failed = !cli.success || stillPending.length > 0;
  const failedMigration = failed ? stillPending[0] : undefined;

  const audit = await recordDeploy(options.url, {
    outcome: failed ? "failed" : "applied",
    applied: appliedNow.map((m) => m.version),
    failed: failedMigration?.version ?? null,
    pending_before: pending.length,
    backup: backup.split("/").at(-1),
    lock_timeout: options.lockTimeout,
    statement_timeout: options.statementTimeout,
    duration_ms: Math.round(performance.now() - started),
  });

  for (const m of appliedNow) log(`applied ${m.version}_${m.name}`);
  if (!failed) {
    log(`deploy OK: ${appliedNow.length} migration(s) applied; backup ${backup}; ${audit}`);
    if (appliedNow.length <= 5) {
      log("to roll back later:");
      for (const line of rollbackSteps(appliedNow, options.workdir, backup)) log(line);
    } else {
      log(
        "to roll back later: each migration's supabase/rollbacks/<file>, newest first (docs/RUNBOOK.md, Rollback)",
      );
    }
    if (options.workdir === ROOT.replace(/\/$/, "") && !isCurrent()) {
      log(
        "note: supabase/functions/admin/shipped_migrations.ts is stale (GET /admin/migrations): regenerate it with tools/gen_shipped_migrations.ts",
      );
    }
    return 0;
  }

  const output = `${cli.stderr}\n${cli.stdout}`.split("\n")
    .filter((line) => line.trim() !== "" && !/TLS connection failed|without TLS|^│$|^▲/.test(line.trim()))
    .map((line) => `  | ${line}`);
  log("deploy FAILED");
  log(output.join("\n"));
  if (failedMigration) {
    log(
      `failed migration: ${failedMigration.version}_${failedMigration.name} (rolled back: each migration runs in its own transaction)`,
    );
  }
  log(
    appliedNow.length > 0
      ? `applied by this deploy before the failure: ${appliedNow.map((m) => m.version).join(", ")}`
      : "nothing was applied: the database is as it was before the deploy",
  );
  log(`not applied: ${stillPending.map((m) => m.version).join(", ")}`);
  log(`backup taken before the deploy: ${backup}`);
  log(`audit: ${audit}`);
  log("rollback:");
  if (appliedNow.length === 0) {
    log("  no rollback needed; fix the failing migration (or what blocked it) and run db:deploy again.");
  } else {
    log(
      "  usually none: fix the failing migration and run db:deploy again. Only if the migrations applied before it",
    );
    log("  must go too:");
  }
  for (const line of rollbackSteps(appliedNow, options.workdir, backup)) log(line);
  return 1;
}

if (import.meta.main) {
  try {
    const { values: options } = commandLine({
      "db-url": { type: "string" },
      workdir: { type: "string" },
      "lock-timeout": { type: "string", default: "5s" },
      "statement-timeout": { type: "string", default: "10min" },
      "backup-dir": { type: "string" },
      "dry-run": { type: "boolean", default: false },
    });
    const lockTimeout = options["lock-timeout"];
    const statementTimeout = options["statement-timeout"];
    for (const [name, value] of [["lock-timeout", lockTimeout], ["statement-timeout", statementTimeout]]) {
      if (!DURATION.test(value)) throw new Error(`--${name} must look like 5s, 500ms, 10min or 1h`);
    }
    const workdir = (options.workdir ?? ROOT).replace(/\/$/, "");
    Deno.exit(
      await deploy({
        url: targetUrl(options),
        workdir,
        lockTimeout,
        statementTimeout,
        backupDir: options["backup-dir"] ?? BACKUP_DIR,
        dryRun: options["dry-run"],
      }),
    );
  } catch (error) {
    console.error(`db:deploy failed: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
