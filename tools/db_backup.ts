/**
 * `npm run db:backup`: a `pg_dump -Fc` backup of the PROJECT's schemas of the target database plus
 * a manifest of what it holds: per-table row counts and content checksums computed in the SAME
 * snapshot as the dump (the dump runs with `--snapshot` exported by the transaction that computes
 * the checksums), so `npm run db:restore-check` can prove later that a restore gives back exactly
 * that data, even though the database kept changing after the backup.
 *
 *   npm run db:backup -- [--db-url URL] [--out FILE.dump] [--schema NAME ...]
 *
 * Target: --db-url, else SUPABASE_DB_URL, else the local stack (127.0.0.1:$PG_PORT). On Supabase
 * use the direct connection or the session pooler (port 5432), not the transaction pooler: the
 * exported snapshot needs one session.
 *
 * What is dumped: the schemas the project owns (PROJECT_SCHEMAS: public, private, audit, ops,
 * privacy, and supabase_migrations, the CLI's migration history), or the --schema ones. Never the
 * platform's (auth, extensions, cron, storage, realtime, vault...): those belong to Supabase and a
 * restore as `postgres` could not recreate them anyway. The manifest also records the event
 * triggers whose function lives in those schemas and the tables of the supabase_realtime
 * publication (a schema dump leaves both out; a restore puts them back), and pg_cron's jobs (the
 * platform's `cron` schema is not dumped; a real restore re-schedules them).
 *
 * Backups hold personal data: the folder is created mode 0700 and every file mode 0600. Files go
 * to .local/backups/ (git-ignored) unless --out says otherwise: <name>.dump and
 * <name>.dump.manifest.json.
 *
 * Also a module: db_deploy.ts and db_restore_check.ts use takeBackup(), tableStats() and the
 * small helpers below.
 */
import postgres from "postgres";
import { commandLine, dbUrl } from "./settings.ts";

export const ROOT = new URL("../", import.meta.url).pathname;
/** The schemas this project owns; backups and restore checks cover these by default. */
export const PROJECT_SCHEMAS = ["public", "private", "audit", "ops", "privacy", "supabase_migrations"];
export const BACKUP_DIR = `${ROOT}.local/backups`;

// ---------------------------------------------------------------------------------------------
// Small helpers shared by the db:* tools
// ---------------------------------------------------------------------------------------------

/** Command-line options: `--name value`, repeatable; `--flag` alone is "true". */
/** The database the tool works on: --db-url, else SUPABASE_DB_URL, else the local stack. */
export function targetUrl(options: { "db-url"?: string }): string {
  const url = options["db-url"] || dbUrl();
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error("the database URL must start with postgresql://");
  return url;
}

/** A URL fit for printing: the password replaced. */
export function maskUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/, "$1:***@");
}

/** The same server, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export interface CommandResult {
  success: boolean;
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, capturing its output. */
export async function runCommand(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CommandResult> {
  const output = await new Deno.Command(command, {
    args,
    env: options.env,
    cwd: options.cwd ?? ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    success: output.success,
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** A postgres.js client for a tool: one connection, named for the audit log and pg_stat_activity. */
export function connect(url: string, applicationName: string): postgres.Sql {
  return postgres(url, {
    max: 1,
    onnotice: () => {},
    prepare: false,
    connect_timeout: 10,
    connection: { application_name: applicationName },
  });
}

export function utcStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

export async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------------------------------------
// Per-table row counts and content checksums
// ---------------------------------------------------------------------------------------------

export interface TableStats {
  schema: string;
  table: string;
  rows: number;
  /** Order-independent: two 60-bit sums over md5(row as text). */
  checksum: string;
}

/**
 * Session settings that fix the text form of every value (the checksum hashes `row::text`), so
 * the source and a restored copy are hashed alike.
 */
export const STABLE_OUTPUT_SETTINGS = `
  select set_config('timezone', 'UTC', true), set_config('datestyle', 'ISO, YMD', true),
         set_config('intervalstyle', 'postgres', true), set_config('extra_float_digits', '3', true),
         set_config('bytea_output', 'hex', true)`;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Ordinary tables worth comparing: every schema but the system ones; tables that belong to an
 * extension only when they are its configuration tables (their data is dumped, e.g. cron.job).
 */
export async function listTables(tx: postgres.Sql | postgres.TransactionSql, schemas: string[] = []) {
  return await tx<{ schema: string; table: string }[]>`
    select n.nspname::text as schema, c.relname::text as table
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind = 'r'
       and n.nspname not in ('pg_catalog', 'information_schema')
       and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
       and (cardinality(${schemas}::text[]) = 0 or n.nspname = any(${schemas}::text[]))
       and (not exists (select 1 from pg_catalog.pg_depend d
                         where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
            or exists (select 1 from pg_catalog.pg_extension e where c.oid = any(e.extconfig)))
     order by 1, 2`;
}

/** Counts and checksums of the given tables, in the caller's transaction (and snapshot). */
export async function tableStats(
  tx: postgres.Sql | postgres.TransactionSql,
  tables: { schema: string; table: string }[],
): Promise<TableStats[]> {
  const stats: TableStats[] = [];
  for (const { schema, table } of tables) {
    const [row] = await tx.unsafe(`
      select count(*)::text as rows,
             coalesce(sum(('x' || substr(h, 1, 15))::bit(60)::bigint), 0)::text || '.' ||
             coalesce(sum(('x' || substr(h, 16, 15))::bit(60)::bigint), 0)::text as checksum
        from (select md5(t::text) as h from only ${quoteIdent(schema)}.${quoteIdent(table)} t) s`);
    stats.push({ schema, table, rows: Number(row.rows), checksum: row.checksum });
  }
  return stats;
}

// ---------------------------------------------------------------------------------------------
// Backups
// ---------------------------------------------------------------------------------------------

/** An event trigger as pg_event_trigger describes it, enough to recreate it. */
export interface EventTriggerDefinition {
  name: string;
  event: string;
  tags: string[] | null;
  function: string;
  /** pg_event_trigger.evtenabled: O (origin), R (replica), A (always), D (disabled). */
  enabled: string;
  comment: string | null;
}

export interface CronJob {
  jobname: string | null;
  schedule: string;
  command: string;
  active: boolean;
}

export interface Manifest {
  format: "db-backup-manifest/1" | "db-backup-manifest/2";
  created_at: string;
  source: { host: string; port: string; database: string };
  server_version: string;
  pg_dump_version: string;
  schemas: string[];
  dump_file: string;
  dump_bytes: number;
  dump_sha256: string;
  migrations: string[];
  tables: TableStats[];
  /** db-backup-manifest/2: the project's event triggers (not in a schema dump). */
  event_triggers?: EventTriggerDefinition[];
  /** db-backup-manifest/2: pg_cron's jobs at the backup (re-scheduled by a real restore). */
  cron_jobs?: CronJob[];
  /** db-backup-manifest/2: privilegeDigest() of the backed-up schemas. */
  privileges?: string;
  /** db-backup-manifest/2: tables of the supabase_realtime publication (not in a schema dump). */
  publication_tables?: { schema: string; table: string }[];
}

/** The tables of `schemas` in the supabase_realtime publication. */
export async function publicationTables(tx: postgres.Sql | postgres.TransactionSql, schemas: string[]) {
  return [
    ...await tx<{ schema: string; table: string }[]>`
    select schemaname::text as schema, tablename::text as table from pg_catalog.pg_publication_tables
     where pubname = 'supabase_realtime' and schemaname = any(${schemas}::text[])
     order by 1, 2`,
  ];
}

/** Event triggers whose function lives in one of `schemas`: the project's, not the platform's. */
export async function eventTriggers(
  tx: postgres.Sql | postgres.TransactionSql,
  schemas: string[],
): Promise<EventTriggerDefinition[]> {
  return await tx<EventTriggerDefinition[]>`
    select e.evtname::text as name, e.evtevent::text as event, e.evttags::text[] as tags,
           e.evtfoid::regprocedure::text as function, e.evtenabled::text as enabled,
           pg_catalog.obj_description(e.oid, 'pg_event_trigger') as comment
      from pg_catalog.pg_event_trigger e
      join pg_catalog.pg_proc p on p.oid = e.evtfoid
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname = any(${schemas}::text[])
     order by 1`;
}

/**
 * A digest of every privilege on the objects of `schemas` (schemas, tables, views, sequences,
 * columns, functions; RLS policies and their roles), so a restore check proves the grants came
 * back exactly as well as the rows.
 */
export async function privilegeDigest(tx: postgres.TransactionSql | postgres.ReservedSql, schemas: string[]) {
  await tx.unsafe(`select set_config('search_path', '', true)`);
  const [{ digest }] = await tx<{ digest: string }[]>`
    select md5(coalesce(string_agg(entry, E'\n' order by entry), '')) as digest from (
      -- A NULL acl means the default: compare the privileges, not how they are spelled.
      select format('schema %s %s', n.nspname, (select string_agg(i::text, ',' order by i::text)
               from unnest(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) i)) as entry
        from pg_catalog.pg_namespace n where n.nspname = any(${schemas}::text[])
      union all
      select format('%s %s.%s %s', c.relkind, n.nspname, c.relname, (select string_agg(i::text, ',' order by i::text)
               from unnest(coalesce(c.relacl, pg_catalog.acldefault(case when c.relkind = 'S' then 's' else 'r' end::"char",
                                                                    c.relowner))) i))
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any(${schemas}::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
      union all
      select format('column %s.%s.%s %s', n.nspname, c.relname, a.attname,
                    (select string_agg(i::text, ',' order by i::text) from unnest(a.attacl) i))
        from pg_catalog.pg_attribute a
        join pg_catalog.pg_class c on c.oid = a.attrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any(${schemas}::text[]) and a.attnum > 0 and not a.attisdropped
         and a.attacl is not null and cardinality(a.attacl) > 0
      union all
      select format('function %s %s', p.oid::pg_catalog.regprocedure::text, (select string_agg(i::text, ',' order by i::text)
               from unnest(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) i))
        from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       where n.nspname = any(${schemas}::text[])
      union all
      select format('policy %s.%s %s %s %s', p.schemaname, p.tablename, p.policyname, p.cmd, p.roles::text)
        from pg_catalog.pg_policies p where p.schemaname = any(${schemas}::text[])
    ) s`;
  return digest;
}

/** Writes a file only its owner can read (backups and manifests hold personal data). */
export async function writePrivateFile(path: string, content: string | Uint8Array) {
  const data = typeof content === "string" ? new TextEncoder().encode(content) : content;
  await Deno.writeFile(path, data, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
}

/** A folder only its owner can enter. */
export async function ensurePrivateDir(path: string) {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  await Deno.chmod(path, 0o700);
}

export const manifestPath = (dumpPath: string) => `${dumpPath}.manifest.json`;

export async function readManifest(dumpPath: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(manifestPath(dumpPath))) as Manifest;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

export interface BackupOptions {
  url: string;
  /** Where to write the dump; default .local/backups/<UTC stamp>_<label>.dump */
  out?: string;
  label?: string;
  /** Only these schemas (pg_dump -n); default PROJECT_SCHEMAS (those that exist). */
  schemas?: string[];
  log?: (line: string) => void;
}

/**
 * pg_dump -Fc of the target and its manifest, both from one snapshot. Writes to a temporary
 * name first, so a failed backup never leaves a file that looks complete.
 */
export async function takeBackup(options: BackupOptions): Promise<{ path: string; manifest: Manifest }> {
  const log = options.log ?? ((line: string) => console.error(line));
  const path = options.out ??
    `${BACKUP_DIR}/${utcStamp()}_${(options.label ?? "backup").replace(/[^A-Za-z0-9_-]/g, "-")}.dump`;
  const folder = path.includes("/") ? path.replace(/\/[^/]*$/, "") || "/" : ".";
  await ensurePrivateDir(folder);
  const partial = `${path}.partial`;
  // Created empty and private first: pg_dump then writes into a file nobody else can open.
  await writePrivateFile(partial, new Uint8Array());

  const sql = connect(options.url, "db:backup");
  try {
    const connection = await sql.reserve();
    try {
      await connection`begin isolation level repeatable read, read only`;
      const [{ snapshot, server_version }] = await connection`
        select pg_catalog.pg_export_snapshot() as snapshot, current_setting('server_version') as server_version`;
      const requested = options.schemas?.length ? options.schemas : PROJECT_SCHEMAS;
      const schemas = (await connection<{ nspname: string }[]>`
        select nspname::text from pg_catalog.pg_namespace where nspname = any(${requested}::text[])
        order by array_position(${requested}::text[], nspname::text)`).map((row) => row.nspname);
      if (schemas.length === 0) throw new Error(`none of the schemas ${requested.join(", ")} exists`);
      if (options.schemas?.length && schemas.length < requested.length) {
        throw new Error(`no such schema: ${requested.filter((name) => !schemas.includes(name)).join(", ")}`);
      }
      log(`backup: pg_dump -Fc of ${maskUrl(options.url)} (snapshot ${snapshot})`);
      // A table locked exclusively (a migration in flight) fails the backup instead of hanging it.
      const dumpArgs = [
        "--format=custom",
        `--snapshot=${snapshot}`,
        "--lock-wait-timeout=60s",
        `--file=${partial}`,
      ];
      for (const schema of schemas) dumpArgs.push(`--schema=${schema}`);
      dumpArgs.push(`--dbname=${options.url}`);
      const dump = await runCommand("pg_dump", dumpArgs);
      if (!dump.success) throw new Error(`pg_dump failed:\n${dump.stderr.trim()}`);

      // Same snapshot as the dump: exactly the rows it holds.
      await connection.unsafe(STABLE_OUTPUT_SETTINGS);
      const tables = await tableStats(connection, await listTables(connection, schemas));
      // Not every database has them (a fresh one, or one the CLI never migrated): look first, since
      // a failed query would abort the snapshot's transaction.
      const [{ has_history, has_cron }] = await connection`
        select to_regclass('supabase_migrations.schema_migrations') is not null as has_history,
               to_regclass('cron.job') is not null and has_table_privilege('cron.job', 'select') as has_cron`;
      const migrations = has_history
        ? (await connection<{ version: string }[]>`
            select version from supabase_migrations.schema_migrations order by version`).map((row) =>
          row.version
        )
        : [];
      const triggers = await eventTriggers(connection, schemas);
      const published = await publicationTables(connection, schemas);
      const privileges = await privilegeDigest(connection, schemas);
      const cronJobs = has_cron
        ? await connection<
          CronJob[]
        >`select jobname, schedule, command, active from cron.job order by jobname`
        : [];
      await connection`commit`;

      await Deno.rename(partial, path);
      const pgDumpVersion = (await runCommand("pg_dump", ["--version"])).stdout.trim();
      const parsed = new URL(options.url);
      const manifest: Manifest = {
        format: "db-backup-manifest/2",
        created_at: new Date().toISOString(),
        source: { host: parsed.hostname, port: parsed.port || "5432", database: parsed.pathname.slice(1) },
        server_version,
        pg_dump_version: pgDumpVersion,
        schemas,
        dump_file: path.split("/").at(-1)!,
        dump_bytes: (await Deno.stat(path)).size,
        dump_sha256: await sha256File(path),
        migrations,
        tables,
        event_triggers: triggers,
        cron_jobs: [...cronJobs],
        publication_tables: published,
        privileges,
      };
      await writePrivateFile(manifestPath(path), JSON.stringify(manifest, null, 2) + "\n");
      log(
        `backup: ${path} (${manifest.dump_bytes} bytes, ${tables.length} tables, ` +
          `${tables.reduce((sum, table) => sum + table.rows, 0)} rows)`,
      );
      return { path, manifest };
    } catch (error) {
      await connection`rollback`.catch(() => {});
      await Deno.remove(partial).catch(() => {});
      throw error;
    } finally {
      connection.release();
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.main) {
  try {
    const { values: options } = commandLine({
      "db-url": { type: "string" },
      out: { type: "string" },
      schema: { type: "string", multiple: true },
    });
    const url = targetUrl(options);
    const { path } = await takeBackup({
      url,
      out: options.out,
      schemas: options.schema,
      label: "backup",
    });
    console.log(path);
  } catch (error) {
    console.error(`db:backup failed: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
