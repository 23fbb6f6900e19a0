/**
 * SQL for the migration history the Supabase CLI records (supabase_migrations.schema_migrations).
 * Runs as the staff member (role authenticated): ops.applied_migrations() is a security definer
 * function that checks staff itself (P0001, hint http:403).
 */
import type { Tx } from "../../_shared/db.ts";

export interface AppliedMigrationRow {
  version: string;
  name: string | null;
}

/** Versions (and names) applied to the database, oldest first; none when the CLI never ran there. */
export function listAppliedMigrations(tx: Tx) {
  return tx<AppliedMigrationRow[]>`select version, name from ops.applied_migrations()`;
}
