/**
 * GET /migrations: the migrations shipped with this build (shipped_migrations.ts, generated from
 * supabase/migrations) compared with the history the Supabase CLI recorded in the database:
 * applied, pending (shipped, not applied), unknown (applied, not shipped by this build).
 * Staff only (../staff.ts; ops.applied_migrations() checks again in the database).
 */
import { Hono } from "hono";
import { z } from "zod";
import type { SessionEnv } from "../../_shared/auth.ts";
import { validate } from "../../_shared/validation.ts";
import { queryAsUser } from "../../_shared/db.ts";
import { listAppliedMigrations } from "../repositories/migrations.ts";
import type { AppliedMigrationRow } from "../repositories/migrations.ts";
import { SHIPPED_MIGRATIONS } from "../shipped_migrations.ts";
import type { ShippedMigration } from "../shipped_migrations.ts";

/** No query parameters: a misspelt filter is a 400, not an ignored one. */
const NoQuery = z.strictObject({});

export function compareMigrations(
  shipped: readonly ShippedMigration[],
  applied: readonly AppliedMigrationRow[],
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

export const migrationRoutes = new Hono<SessionEnv>()
  .get("/", validate("query", NoQuery), async (c) => {
    const applied = await queryAsUser(c.get("claims"), listAppliedMigrations);
    return c.json(compareMigrations(SHIPPED_MIGRATIONS, applied));
  });
