/**
 * `npm run db:restore-check`: proves that a backup restores. Restores it into a scratch database,
 * then compares per-table row counts and content checksums with the source and prints a table;
 * exits 1 on any difference (or when the restore itself fails).
 *
 *   npm run db:restore-check -- [--db-url SOURCE] [--backup FILE.dump] [--scratch-url URL]
 *                               [--backup-dir DIR] [--against-source] [--keep] [--no-owner]
 *
 * - Without --backup, a fresh backup of the source is taken first (tools/db_backup.ts), into
 *   --backup-dir (default .local/backups).
 * - "The source" is the backup's manifest: counts and checksums computed in the snapshot the dump
 *   was taken from, so the check is exact although the database moved on. With --against-source
 *   (or a dump without a manifest) the restored data is compared with the live source instead,
 *   which only matches if nothing was written since the backup.
 * - The scratch database is created next to --scratch-url (default: the local stack's server) as
 *   restore_check_<stamp>, and dropped afterwards unless --keep.
 * - pg_cron lives only in the database named by cron.database_name, so its extension and job
 *   tables are left out of the restore and listed as skipped. A dump of a hosted Supabase project
 *   carries the platform's schemas and roles: restore it into a Supabase-compatible scratch server
 *   (--scratch-url), or take the backup with --schema for the project's schemas.
 */
import {
  connect,
  listTables,
  LOCAL_DB_URL,
  maskUrl,
  parseArgs,
  readManifest,
  runCommand,
  sha256File,
  STABLE_OUTPUT_SETTINGS,
  tableStats,
  takeBackup,
  targetUrl,
  utcStamp,
  withDatabase,
} from "./db_backup.ts";
import type { Manifest, TableStats } from "./db_backup.ts";

/** TOC entries that cannot be restored outside cron.database_name: the pg_cron extension and its schema's objects. */
const PG_CRON_ENTRY =
  /^\d+; \d+ \d+ (?:EXTENSION - pg_cron |COMMENT - EXTENSION pg_cron |ACL - SCHEMA cron |[A-Z][A-Z ]*? cron )/;
const SKIPPED_SCHEMAS = new Set(["cron"]);

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

async function tablesOf(url: string): Promise<{ schema: string; table: string }[]> {
  const sql = connect(url, "db:restore-check");
  try {
    return await listTables(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export interface RestoreCheckOptions {
  sourceUrl: string;
  backup?: string;
  /** Where a fresh backup goes (no `backup`); default .local/backups. */
  backupDir?: string;
  scratchUrl: string;
  againstSource?: boolean;
  keep?: boolean;
  noOwner?: boolean;
  log?: (line: string) => void;
}

export interface RestoreCheckResult {
  ok: boolean;
  backup: string;
  scratchDatabase: string;
  rows: Comparison[];
}

export async function restoreCheck(options: RestoreCheckOptions): Promise<RestoreCheckResult> {
  const log = options.log ?? ((line: string) => console.error(line));

  // 1. The backup and what it should contain.
  let backup = options.backup;
  let manifest: Manifest | undefined;
  if (!backup) {
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

  // 2. A scratch database.
  const scratchDatabase = `restore_check_${utcStamp().toLowerCase()}_${crypto.randomUUID().slice(0, 8)}`;
  const scratchUrl = withDatabase(options.scratchUrl, scratchDatabase);
  const admin = connect(options.scratchUrl, "db:restore-check");
  try {
    await admin.unsafe(`create database "${scratchDatabase}"`);
    log(`restore-check: restoring into ${maskUrl(scratchUrl)}`);
    try {
      // 3. Restore everything but pg_cron.
      const toc = await runCommand("pg_restore", ["--list", backup]);
      if (!toc.success) throw new Error(`pg_restore --list failed:\n${toc.stderr.trim()}`);
      const list = toc.stdout.split("\n").filter((line) => !PG_CRON_ENTRY.test(line)).join("\n");
      const listFile = await Deno.makeTempFile({ suffix: ".toc" });
      try {
        await Deno.writeTextFile(listFile, list);
        const restoreArgs = ["--exit-on-error", "--single-transaction", `--use-list=${listFile}`];
        if (options.noOwner) restoreArgs.push("--no-owner", "--no-acl");
        restoreArgs.push(`--dbname=${scratchUrl}`, backup);
        const restore = await runCommand("pg_restore", restoreArgs);
        if (!restore.success) throw new Error(`pg_restore failed:\n${restore.stderr.trim()}`);
      } finally {
        await Deno.remove(listFile).catch(() => {});
      }

      // 4. Compare.
      const source = againstSource
        ? await statsOf(options.sourceUrl, manifest?.tables ?? await tablesOf(options.sourceUrl))
        : manifest!.tables;
      const restored = await statsOf(scratchUrl, await tablesOf(scratchUrl));
      const rows = compareStats(source, restored)
        .sort((a, b) => `${a.schema}.${a.table}`.localeCompare(`${b.schema}.${b.table}`));
      const ok = rows.every((row) => row.result === "ok" || row.result === "skipped");
      return { ok, backup, scratchDatabase, rows };
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
    const options = parseArgs(Deno.args, ["against-source", "keep", "no-owner"]);
    const sourceUrl = targetUrl(options);
    const scratchUrl = options.get("scratch-url")?.at(-1) ?? Deno.env.get("RESTORE_CHECK_SCRATCH_URL") ??
      LOCAL_DB_URL;
    const result = await restoreCheck({
      sourceUrl,
      backup: options.get("backup")?.at(-1),
      backupDir: options.get("backup-dir")?.at(-1),
      scratchUrl,
      againstSource: options.has("against-source"),
      keep: options.has("keep"),
      noOwner: options.has("no-owner"),
    });
    console.log(formatTable(result.rows));
    const differences = result.rows.filter((row) => !["ok", "skipped"].includes(row.result)).length;
    console.log(
      result.ok
        ? `\nrestore-check OK: ${result.backup} restores to the same rows and content (${result.rows.length} tables)`
        : `\nrestore-check FAILED: ${differences} table(s) differ between the source and the restored backup`,
    );
    if (!result.ok) Deno.exit(1);
  } catch (error) {
    console.error(`db:restore-check failed: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
