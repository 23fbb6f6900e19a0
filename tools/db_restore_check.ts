/**
 * `npm run db:restore-check`: proves that a backup restores, as the non-superuser `postgres` a
 * Supabase project gives you. Restores it into a scratch database, then compares per-table row
 * counts and content checksums with the source and prints a table; exits 1 on any difference (or
 * when the restore itself fails).
 *
 *   npm run db:restore-check -- [--db-url SOURCE] [--backup FILE.dump] [--scratch-url URL]
 *                               [--backup-dir DIR] [--against-source] [--keep] [--no-owner]
 *   npm run db:restore-check -- --backup FILE.dump --restore-into URL     # the real restore
 *
 * - The source: --db-url, else SUPABASE_DB_URL, else the local stack (127.0.0.1:$PG_PORT).
 * - Without --backup, a fresh backup of the source is taken first (tools/db_backup.ts: the
 *   project's schemas), into --backup-dir (default .local/backups).
 * - "The source" is the backup's manifest: counts and checksums computed in the snapshot the dump
 *   was taken from, so the check is exact although the database moved on. With --against-source
 *   (or a dump without a manifest) the restored data is compared with the live source instead,
 *   which only matches if nothing was written since the backup.
 * - The scratch database restore_check_<stamp> is created ON THE SOURCE'S SERVER (or the server
 *   of --scratch-url), as the same role, and dropped afterwards unless --keep. Being a fresh
 *   database it lacks what Supabase sets up in a project database; the stand-ins a project-schema
 *   dump refers to (extensions + pgcrypto, auth.jwt(), the supabase_realtime publication) are
 *   created first (tools/sql/restore_scratch_prerequisites.sql).
 * - How it restores (restoreInto, also what --restore-into does on the real database):
 *   pg_restore --single-transaction --exit-on-error with a filtered table of contents: entries a
 *   non-superuser cannot restore are left out and named: `ALTER DEFAULT PRIVILEGES FOR ROLE <r>`
 *   for any other role r (supabase_admin's, on Supabase), pg_cron (it lives in the platform's
 *   `cron` schema of the cron.database_name database only) and event triggers. With objects
 *   owned by a role the restoring role cannot act as, ownership is not restored (--no-owner).
 *   The project's event triggers (those whose function is in the backed-up schemas) are dropped
 *   before the restore (they depend on the functions being replaced and would record the restore
 *   as DDL) and recreated after it from the manifest; the platform's (supabase_admin's) are left
 *   alone. --restore-into also passes --clean --if-exists, replacing each object of the backup.
 */
import {
  connect,
  ensurePrivateDir,
  eventTriggers,
  listTables,
  maskUrl,
  privilegeDigest,
  PROJECT_SCHEMAS,
  publicationTables,
  readManifest,
  ROOT,
  runCommand,
  sha256File,
  STABLE_OUTPUT_SETTINGS,
  tableStats,
  takeBackup,
  targetUrl,
  utcStamp,
  withDatabase,
  writePrivateFile,
} from "./db_backup.ts";
import type { EventTriggerDefinition, Manifest, TableStats } from "./db_backup.ts";
import { commandLine } from "./settings.ts";

/** TOC entries that cannot be restored outside cron.database_name: the pg_cron extension and its schema's objects. */
const PG_CRON_ENTRY =
  /^\d+; \d+ \d+ (?:EXTENSION - pg_cron |COMMENT - EXTENSION pg_cron |ACL - SCHEMA cron |[A-Z][A-Z ]*? cron )/;
const EVENT_TRIGGER_ENTRY = /^\d+; \d+ \d+ (?:EVENT TRIGGER|COMMENT - EVENT TRIGGER) /;
const PUBLIC_SCHEMA_ENTRY = /^\d+; \d+ \d+ SCHEMA - public \S+$/;
const DEFAULT_ACL_ENTRY = /^\d+; \d+ \d+ DEFAULT ACL .* (\S+)$/;
/** `<dump id>; <catalog oid> <oid> <type> <schema> <name> <owner>`: the owner is the last word. */
const TOC_ENTRY = /^\d+; \d+ \d+ .* (\S+)$/;
const SKIPPED_SCHEMAS = new Set(["cron"]);
const PREREQUISITES = `${ROOT}tools/sql/restore_scratch_prerequisites.sql`;

export interface RestorePlan {
  /** The table of contents to pass to pg_restore --use-list. */
  list: string;
  /** What was left out, and why. */
  skipped: string[];
  /** Owners the restoring role cannot act as: restore without ownership. */
  foreignOwners: string[];
}

/**
 * The TOC of `pg_restore --list`, filtered for a restore by `role`, which may act as the roles in
 * `actsAs` (itself included).
 */
export function planRestore(toc: string, role: string, actsAs: Set<string>): RestorePlan {
  const kept: string[] = [];
  const skipped: string[] = [];
  const foreign = new Set<string>();
  for (const line of toc.split("\n")) {
    if (line.startsWith(";") || line.trim() === "") {
      kept.push(line);
      continue;
    }
    const text = line.replace(/^\d+; \d+ \d+ /, "");
    if (PG_CRON_ENTRY.test(line)) {
      skipped.push(`${text} (pg_cron is the platform's)`);
      continue;
    }
    if (EVENT_TRIGGER_ENTRY.test(line)) {
      skipped.push(`${text} (event triggers are recreated after the restore)`);
      continue;
    }
    if (PUBLIC_SCHEMA_ENTRY.test(line)) {
      skipped.push(`${text} (every database has it; its comment and grants are restored)`);
      continue;
    }
    const defaultAcl = DEFAULT_ACL_ENTRY.exec(line);
    if (defaultAcl && defaultAcl[1] !== role) {
      skipped.push(
        `${text} (ALTER DEFAULT PRIVILEGES FOR ROLE ${defaultAcl[1]}: only that role or a superuser may)`,
      );
      continue;
    }
    const owner = TOC_ENTRY.exec(line)?.[1];
    if (owner && owner !== "-" && !actsAs.has(owner)) foreign.add(owner);
    kept.push(line);
  }
  return { list: kept.join("\n"), skipped, foreignOwners: [...foreign].sort() };
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** The statements that recreate an event trigger as pg_event_trigger described it. */
export function createEventTriggerSql(trigger: EventTriggerDefinition): string {
  const name = quoteIdent(trigger.name);
  const tags = trigger.tags?.length ? ` when tag in (${trigger.tags.map(quoteLiteral).join(", ")})` : "";
  const statements = [
    `create event trigger ${name} on ${trigger.event}${tags} execute function ${trigger.function}`,
  ];
  const enable: Record<string, string> = { A: "enable always", R: "enable replica", D: "disable" };
  if (enable[trigger.enabled]) statements.push(`alter event trigger ${name} ${enable[trigger.enabled]}`);
  if (trigger.comment !== null) {
    statements.push(`comment on event trigger ${name} is ${quoteLiteral(trigger.comment)}`);
  }
  return statements.join(";\n") + ";";
}

async function recreateEventTriggers(
  sql: ReturnType<typeof connect>,
  triggers: EventTriggerDefinition[],
  log: (line: string) => void,
) {
  const present = new Set(
    (await sql<{ evtname: string }[]>`select evtname::text from pg_catalog.pg_event_trigger`)
      .map((row) => row.evtname),
  );
  const missing = triggers.filter((trigger) => !present.has(trigger.name));
  for (const trigger of missing) await sql.unsafe(createEventTriggerSql(trigger));
  if (missing.length > 0) log(`restore: event triggers recreated: ${missing.map((t) => t.name).join(", ")}`);
}

export interface RestoreIntoOptions {
  url: string;
  backup: string;
  manifest?: Manifest;
  /** Replace the objects of the backup that exist (pg_restore --clean --if-exists). */
  clean?: boolean;
  /** Never restore ownership (pg_restore --no-owner --no-acl). */
  noOwner?: boolean;
  /** Re-schedule the manifest's pg_cron jobs (only where pg_cron runs: the project's database). */
  cronJobs?: boolean;
  log: (line: string) => void;
}

/** Restores `backup` into `url` as the role of `url` (see the header). */
export async function restoreInto(options: RestoreIntoOptions): Promise<{ eventTriggers: string[] }> {
  const { log } = options;
  const schemas = options.manifest?.schemas?.length ? options.manifest.schemas : PROJECT_SCHEMAS;
  const sql = connect(options.url, "db:restore-check");
  try {
    const [{ role }] = await sql<{ role: string }[]>`select current_user::text as role`;
    const actsAs = new Set((await sql<{ rolname: string }[]>`
      select rolname::text from pg_catalog.pg_roles where pg_catalog.pg_has_role(current_user, oid, 'USAGE')`)
      .map((row) => row.rolname));
    const toc = await runCommand("pg_restore", ["--list", options.backup]);
    if (!toc.success) throw new Error(`pg_restore --list failed:\n${toc.stderr.trim()}`);
    const plan = planRestore(toc.stdout, role, actsAs);
    for (const entry of plan.skipped) log(`restore: left out ${entry}`);
    const noOwner = options.noOwner || plan.foreignOwners.length > 0;
    if (plan.foreignOwners.length > 0) {
      log(
        `restore: objects owned by ${
          plan.foreignOwners.join(", ")
        } are restored owned by ${role} (--no-owner)`,
      );
    }

    // Per-schema default privileges of the restoring role (Supabase gives postgres some in public)
    // would grant extra privileges on every object the restore creates; pg_dump restores them
    // last for that reason, which only works when they are not there yet. Set them aside; the
    // backup's own come back with it (kept DEFAULT ACL entries).
    const defaults = await sql<{ statement: string; undo: string }[]>`
      select format('alter default privileges for role %I in schema %I revoke all on %s from %s',
                    r.rolname, n.nspname, k.kind, g.grantee) as statement,
             format('alter default privileges for role %I in schema %I grant %s on %s to %s%s',
                    r.rolname, n.nspname, x.privilege_type, k.kind, g.grantee,
                    case when x.is_grantable then ' with grant option' else '' end) as undo
        from pg_catalog.pg_default_acl d
        join pg_catalog.pg_roles r on r.oid = d.defaclrole
        join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace
        cross join lateral pg_catalog.aclexplode(d.defaclacl) x
        cross join lateral (select case when x.grantee = 0 then 'public'
                                        else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) end
                                   as grantee) g
        join (values ('r', 'tables'), ('S', 'sequences'), ('f', 'functions'), ('T', 'types'), ('n', 'schemas'))
             as k(objtype, kind) on k.objtype = d.defaclobjtype::text
       where d.defaclrole = current_user::regrole and n.nspname = any(${schemas}::text[])`;
    for (const statement of new Set(defaults.map((row) => row.statement))) await sql.unsafe(statement);
    if (defaults.length > 0) {
      log(`restore: default privileges of ${role} in ${schemas.join(", ")} set aside during the restore`);
    }

    // The project's event triggers go first: they depend on functions the restore replaces.
    const present = await eventTriggers(sql, schemas);
    for (const trigger of present) await sql.unsafe(`drop event trigger ${quoteIdent(trigger.name)}`);
    const wanted = options.manifest?.event_triggers ?? present;

    const listFile = await Deno.makeTempFile({ suffix: ".toc" });
    try {
      await writePrivateFile(listFile, plan.list);
      const args = ["--exit-on-error", "--single-transaction", `--use-list=${listFile}`];
      if (options.clean) args.push("--clean", "--if-exists");
      if (noOwner) args.push("--no-owner", "--no-acl");
      args.push(`--dbname=${options.url}`, options.backup);
      const restore = await runCommand("pg_restore", args);
      if (!restore.success) {
        // One transaction: the database is as it was. Put back what was there.
        for (const { undo } of defaults) await sql.unsafe(undo);
        await recreateEventTriggers(sql, present, log);
        throw new Error(`pg_restore failed:\n${restore.stderr.trim()}`);
      }
    } finally {
      await Deno.remove(listFile).catch(() => {});
    }

    // Database-level state a schema dump leaves out, before the event triggers return (so the
    // restore's own DDL is not recorded as schema changes).
    try {
      const published = new Set((await publicationTables(sql, schemas)).map((t) => `${t.schema}.${t.table}`));
      const missing = (options.manifest?.publication_tables ?? []).filter((t) =>
        !published.has(`${t.schema}.${t.table}`)
      );
      if (missing.length > 0) {
        await sql.unsafe(
          `alter publication supabase_realtime add table ${
            missing.map((t) => `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`).join(", ")
          }`,
        );
        log(
          `restore: supabase_realtime publishes again ${
            missing.map((t) => `${t.schema}.${t.table}`).join(", ")
          }`,
        );
      }
      const [{ cron }] =
        await sql`select to_regprocedure('cron.schedule(text, text, text)') is not null as cron`;
      if (options.cronJobs && !cron && (options.manifest?.cron_jobs ?? []).length > 0) {
        log(
          "restore: WARNING pg_cron is not enabled in the target: its jobs were not scheduled (enable pg_cron, then run the restore again)",
        );
      }
      if (options.cronJobs && cron) {
        const jobs = (options.manifest?.cron_jobs ?? []).filter((job) => job.jobname);
        for (const job of jobs) {
          // cron.schedule with a name inserts or updates that job: idempotent.
          const [{ jobid }] = await sql`select cron.schedule(${job
            .jobname!}, ${job.schedule}, ${job.command}) as jobid`;
          if (!job.active) await sql`select cron.alter_job(${jobid}, active := false)`;
        }
        if (jobs.length > 0) {
          log(
            `restore: pg_cron jobs scheduled as in the backup: ${jobs.map((job) => job.jobname).join(", ")}`,
          );
        }
      }
    } finally {
      await recreateEventTriggers(sql, wanted, log);
    }
    return { eventTriggers: wanted.map((trigger) => trigger.name) };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export interface Comparison {
  schema: string;
  table: string;
  sourceRows: number | null;
  restoredRows: number | null;
  result: "ok" | "DIFFERENT" | "MISSING" | "EXTRA" | "skipped";
  detail: string;
}

export function compareStats(source: TableStats[], restored: TableStats[]): Comparison[] {
  const key = (stats: { schema: string; table: string }) => `${stats.schema}.${stats.table}`;
  const restoredByKey = new Map(restored.map((stats) => [key(stats), stats]));
  const sourceKeys = new Set(source.map(key));
  const rows: Comparison[] = [];
  for (const expected of source) {
    const actual = restoredByKey.get(key(expected));
    const base = { schema: expected.schema, table: expected.table, sourceRows: expected.rows };
    if (SKIPPED_SCHEMAS.has(expected.schema)) {
      rows.push({
        ...base,
        restoredRows: null,
        result: "skipped",
        detail: "pg_cron is not restored into a scratch database",
      });
    } else if (!actual) {
      rows.push({
        ...base,
        restoredRows: null,
        result: "MISSING",
        detail: "table not in the restored database",
      });
    } else if (actual.rows !== expected.rows) {
      rows.push({ ...base, restoredRows: actual.rows, result: "DIFFERENT", detail: "row count differs" });
    } else if (actual.checksum !== expected.checksum) {
      rows.push({
        ...base,
        restoredRows: actual.rows,
        result: "DIFFERENT",
        detail: "content checksum differs",
      });
    } else {
      rows.push({ ...base, restoredRows: actual.rows, result: "ok", detail: "" });
    }
  }
  for (const actual of restored) {
    if (!sourceKeys.has(key(actual))) {
      rows.push({
        schema: actual.schema,
        table: actual.table,
        sourceRows: null,
        restoredRows: actual.rows,
        result: "EXTRA",
        detail: "table not in the source",
      });
    }
  }
  return rows;
}

export function formatTable(rows: Comparison[]): string {
  const header = ["table", "source rows", "restored rows", "result", ""];
  const body = rows.map((row) => [
    `${row.schema}.${row.table}`,
    row.sourceRows === null ? "-" : String(row.sourceRows),
    row.restoredRows === null ? "-" : String(row.restoredRows),
    row.result,
    row.detail,
  ]);
  const widths = header.map((_, i) => Math.max(header[i].length, ...body.map((cells) => cells[i].length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(
      "  ",
    )
      .trimEnd();
  return [line(header), widths.map((width) => "-".repeat(width)).join("  ").trimEnd(), ...body.map(line)]
    .join("\n");
}

/** Counts and checksums of those of `tables` that exist at `url`, in one snapshot. */
async function statsOf(url: string, tables: { schema: string; table: string }[]): Promise<TableStats[]> {
  const sql = connect(url, "db:restore-check");
  try {
    return await sql.begin("isolation level repeatable read read only", async (tx) => {
      await tx.unsafe(STABLE_OUTPUT_SETTINGS);
      const existing = new Set((await listTables(tx)).map((t) => `${t.schema}.${t.table}`));
      return await tableStats(tx, tables.filter((t) => existing.has(`${t.schema}.${t.table}`)));
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function tablesOf(url: string, schemas: string[] = []): Promise<{ schema: string; table: string }[]> {
  const sql = connect(url, "db:restore-check");
  try {
    return await listTables(sql, schemas);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function presentEventTriggers(url: string, schemas: string[]): Promise<string[]> {
  const sql = connect(url, "db:restore-check");
  try {
    return (await eventTriggers(sql, schemas)).map((trigger) => trigger.name);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function privilegesOf(url: string, schemas: string[]): Promise<string> {
  const sql = connect(url, "db:restore-check");
  try {
    return await sql.begin("read only", async (tx) => await privilegeDigest(tx, schemas));
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function publishedTablesOf(url: string, schemas: string[]) {
  const sql = connect(url, "db:restore-check");
  try {
    return await publicationTables(sql, schemas);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export interface RestoreCheckOptions {
  sourceUrl: string;
  backup?: string;
  /** Where a fresh backup goes (no `backup`); default .local/backups. */
  backupDir?: string;
  /** The server the scratch database is created on (any database URL there); default the source's. */
  scratchUrl?: string;
  /** Restore into this database itself (clean) instead of a scratch database. */
  restoreIntoUrl?: string;
  againstSource?: boolean;
  keep?: boolean;
  noOwner?: boolean;
  log?: (line: string) => void;
}

export interface RestoreCheckResult {
  ok: boolean;
  backup: string;
  /** The database restored into. */
  database: string;
  rows: Comparison[];
  /** Event triggers the backup recorded and whether the restored database has them. */
  eventTriggers: { name: string; present: boolean }[];
  /** supabase_realtime tables the backup recorded and whether the restored database publishes them. */
  publication: { name: string; present: boolean }[];
  /** Grants, column grants and policies' roles compared with the backup's (privilegeDigest). */
  privileges: "ok" | "DIFFERENT" | "not recorded";
}

export async function restoreCheck(options: RestoreCheckOptions): Promise<RestoreCheckResult> {
  const log = options.log ?? ((line: string) => console.error(line));

  // 1. The backup and what it should contain.
  let backup = options.backup;
  let manifest: Manifest | undefined;
  if (!backup) {
    if (options.backupDir) await ensurePrivateDir(options.backupDir);
    ({ path: backup, manifest } = await takeBackup({
      url: options.sourceUrl,
      out: options.backupDir ? `${options.backupDir}/${utcStamp()}_restore-check.dump` : undefined,
      label: "restore-check",
      log,
    }));
  } else {
    manifest = await readManifest(backup);
    if (manifest) {
      const sha = await sha256File(backup);
      if (sha !== manifest.dump_sha256) {
        throw new Error(
          `${backup} does not match its manifest (sha256 ${sha}, expected ${manifest.dump_sha256})`,
        );
      }
      log(`restore-check: ${backup} matches its manifest (sha256, ${manifest.tables.length} tables)`);
    }
  }
  const againstSource = options.againstSource || !manifest;
  if (!manifest) log("restore-check: no manifest beside the backup: comparing with the live source");
  const schemas = manifest?.schemas?.length ? manifest.schemas : PROJECT_SCHEMAS;

  const compare = async (restoredUrl: string, database: string): Promise<RestoreCheckResult> => {
    const source = againstSource
      ? await statsOf(options.sourceUrl, manifest?.tables ?? await tablesOf(options.sourceUrl, schemas))
      : manifest!.tables;
    const restored = await statsOf(restoredUrl, await tablesOf(restoredUrl, schemas));
    const rows = compareStats(source, restored)
      .sort((a, b) => `${a.schema}.${a.table}`.localeCompare(`${b.schema}.${b.table}`));
    const present = new Set(await presentEventTriggers(restoredUrl, schemas));
    const triggers = (manifest?.event_triggers ?? []).map((t) => ({
      name: t.name,
      present: present.has(t.name),
    }));
    const publishedNow = new Set(
      (await publishedTablesOf(restoredUrl, schemas)).map((t) => `${t.schema}.${t.table}`),
    );
    const publication = (manifest?.publication_tables ?? []).map((t) => ({
      name: `${t.schema}.${t.table}`,
      present: publishedNow.has(`${t.schema}.${t.table}`),
    }));
    const expected = againstSource ? await privilegesOf(options.sourceUrl, schemas) : manifest?.privileges;
    const privileges = expected === undefined
      ? "not recorded"
      : (await privilegesOf(restoredUrl, schemas)) === expected
      ? "ok"
      : "DIFFERENT";
    const ok = rows.every((row) => row.result === "ok" || row.result === "skipped") &&
      triggers.every((t) => t.present) && publication.every((t) => t.present) && privileges !== "DIFFERENT";
    return { ok, backup: backup!, database, rows, eventTriggers: triggers, publication, privileges };
  };

  // 2a. The real restore: into the named database, replacing what the backup holds.
  if (options.restoreIntoUrl) {
    log(`restore: restoring ${backup} into ${maskUrl(options.restoreIntoUrl)} (clean)`);
    await restoreInto({
      url: options.restoreIntoUrl,
      backup,
      manifest,
      clean: true,
      noOwner: options.noOwner,
      cronJobs: true,
      log,
    });
    return await compare(options.restoreIntoUrl, new URL(options.restoreIntoUrl).pathname.slice(1));
  }

  // 2b. A scratch database on the source's server (or --scratch-url's).
  const server = options.scratchUrl ?? options.sourceUrl;
  const scratchDatabase = `restore_check_${utcStamp().toLowerCase()}_${crypto.randomUUID().slice(0, 8)}`;
  const scratchUrl = withDatabase(server, scratchDatabase);
  const admin = connect(server, "db:restore-check");
  try {
    await admin.unsafe(`create database "${scratchDatabase}"`);
    log(`restore-check: restoring into the scratch database ${maskUrl(scratchUrl)}`);
    try {
      const prerequisites = await runCommand("psql", [
        scratchUrl,
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-f",
        PREREQUISITES,
      ], { env: { PGOPTIONS: "-c client_min_messages=warning" } });
      if (!prerequisites.success) {
        throw new Error(`preparing the scratch database failed:\n${prerequisites.stderr.trim()}`);
      }
      await restoreInto({ url: scratchUrl, backup, manifest, noOwner: options.noOwner, log });
      return await compare(scratchUrl, scratchDatabase);
    } finally {
      if (options.keep) {
        log(`restore-check: kept the scratch database ${scratchDatabase}`);
      } else {
        await admin.unsafe(`drop database if exists "${scratchDatabase}" with (force)`).catch((error) =>
          log(`restore-check: could not drop ${scratchDatabase}: ${error.message}`)
        );
      }
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
}

if (import.meta.main) {
  try {
    const { values: options } = commandLine({
      "db-url": { type: "string" },
      backup: { type: "string" },
      "backup-dir": { type: "string" },
      "scratch-url": { type: "string" },
      "restore-into": { type: "string" },
      "against-source": { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      "no-owner": { type: "boolean", default: false },
    });
    const sourceUrl = targetUrl(options);
    const restoreIntoUrl = options["restore-into"];
    if (restoreIntoUrl && !options.backup) throw new Error("--restore-into needs --backup FILE.dump");
    const result = await restoreCheck({
      sourceUrl,
      backup: options.backup,
      backupDir: options["backup-dir"],
      scratchUrl: options["scratch-url"] ?? (Deno.env.get("RESTORE_CHECK_SCRATCH_URL") || undefined),
      restoreIntoUrl,
      againstSource: options["against-source"],
      keep: options.keep,
      noOwner: options["no-owner"],
    });
    console.log(formatTable(result.rows));
    for (const trigger of result.eventTriggers) {
      console.log(`event trigger ${trigger.name}: ${trigger.present ? "ok" : "MISSING"}`);
    }
    console.log(`privileges (grants, column grants, policy roles): ${result.privileges}`);
    for (const table of result.publication) {
      console.log(`supabase_realtime publishes ${table.name}: ${table.present ? "ok" : "MISSING"}`);
    }
    const differences = result.rows.filter((row) => !["ok", "skipped"].includes(row.result)).length +
      result.eventTriggers.filter((t) => !t.present).length + result.publication.filter((t) =>
        !t.present
      ).length +
      (result.privileges === "DIFFERENT" ? 1 : 0);
    console.log(
      result.ok
        ? `\nrestore-check OK: ${result.backup} restores to the same rows and content (${result.rows.length} tables, ${result.eventTriggers.length} event triggers) in ${result.database}`
        : `\nrestore-check FAILED: ${differences} difference(s) between the source and the restored backup`,
    );
    if (!result.ok) Deno.exit(1);
  } catch (error) {
    console.error(`db:restore-check failed: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
