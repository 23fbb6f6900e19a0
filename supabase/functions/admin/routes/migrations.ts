/**
 * GET /migrations: the migrations shipped with this build (shipped_migrations.ts, generated from
 * supabase/migrations) compared with the history the Supabase CLI recorded in the database:
 * applied, pending (shipped, not applied), unknown (applied, not shipped by this build).
 * Staff only (../staff.ts; ops.applied_migrations() checks again in the database). The comparison
 * is the one `npm run db:deploy` makes (_shared/migrations.ts).
 */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { NoQuery } from "../../_shared/schemas.ts";
import { queryAsUser } from "../../_shared/db.ts";
import { listAppliedMigrations } from "../repositories/migrations.ts";
import { SHIPPED_MIGRATIONS } from "../shipped_migrations.ts";
import { compareMigrations } from "../../_shared/migrations.ts";
import { MigrationComparison } from "../schemas.ts";

export const migrationRoutes = new Hono<SessionEnv>()
  .get(
    "/",
    documented({
      summary: "Shipped migrations against the database's history: applied, pending, unknown",
      responses: { 200: { description: "The comparison", schema: MigrationComparison } },
    }),
    validate("query", NoQuery),
    async (c) => {
      const applied = await queryAsUser(c.get("claims"), listAppliedMigrations);
      return c.json(compareMigrations(SHIPPED_MIGRATIONS, applied));
    },
  );
