/**
 * The one comparison of the migrations a build ships with the history a database recorded
 * (supabase_migrations.schema_migrations): GET /admin/migrations answers with it, and
 * `npm run db:deploy` (tools/db_deploy.ts) decides with it what to apply and when to refuse.
 * Pure: no I/O, no Deno API, so both the edge function and the tool import it.
 */

export interface ShippedMigration {
  version: string;
  name: string;
}

export interface AppliedMigration {
  version: string;
  name: string | null;
}

export function compareMigrations(
  shipped: readonly ShippedMigration[],
  applied: readonly AppliedMigration[],
) {
  const shippedByVersion = new Map(shipped.map((migration) => [migration.version, migration]));
  const appliedByVersion = new Map(applied.map((migration) => [migration.version, migration]));
  const latestApplied = [...appliedByVersion.keys()].sort().at(-1) ?? null;

  const appliedShipped = shipped
    .filter((migration) => appliedByVersion.has(migration.version))
    .map((migration) => {
      const recordedName = appliedByVersion.get(migration.version)?.name ?? null;
      return recordedName === null || recordedName === migration.name
        ? { version: migration.version, name: migration.name }
        : { version: migration.version, name: migration.name, recorded_name: recordedName };
    });
  const pending = shipped
    .filter((migration) => !appliedByVersion.has(migration.version))
    .map((migration) => ({
      version: migration.version,
      name: migration.name,
      // Older than something already applied: `supabase migration up` needs --include-all.
      out_of_order: latestApplied !== null && migration.version < latestApplied,
    }));
  const unknown = [...appliedByVersion.values()]
    .filter((migration) => !shippedByVersion.has(migration.version))
    .sort((a, b) => a.version.localeCompare(b.version))
    .map((migration) => ({ version: migration.version, name: migration.name }));

  return {
    up_to_date: pending.length === 0 && unknown.length === 0,
    summary: {
      shipped: shipped.length,
      applied: appliedShipped.length,
      pending: pending.length,
      unknown: unknown.length,
    },
    latest_shipped: shipped.map((migration) => migration.version).sort().at(-1) ?? null,
    latest_applied: latestApplied,
    applied: appliedShipped,
    pending,
    unknown,
  };
}
