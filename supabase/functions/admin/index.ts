/**
 * Admin edge function: /functions/v1/admin/... for staff (support and admin).
 * Every route needs a Clerk session AND staff status read from the database (403 otherwise).
 * Composes the shared frame, the two checks and the route modules; nothing else.
 */
import { z } from "zod";
import { ClerkSessionSettings, DatabaseSettings, HttpSettings, loadConfig } from "../_shared/config.ts";
import { configureDatabase } from "../_shared/db.ts";
import { createSessionVerifier } from "../_shared/auth.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { requireStaff } from "./staff.ts";
import { auditRoutes } from "./routes/audit.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { migrationRoutes } from "./routes/migrations.ts";

const config = loadConfig(z.object({ ...DatabaseSettings, ...ClerkSessionSettings, ...HttpSettings }));

configureDatabase({
  url: config.SUPABASE_DB_URL,
  poolSize: config.DB_POOL_SIZE,
  prepare: config.DB_PREPARE,
  statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
});

const { requireSession } = createSessionVerifier({
  issuer: config.CLERK_ISSUER,
  jwksUrl: config.CLERK_JWKS_URL ?? `${config.CLERK_ISSUER.replace(/\/+$/, "")}/.well-known/jwks.json`,
  authorizedParties: config.CLERK_AUTHORIZED_PARTIES,
});

export const app = createFunctionApp("admin", {
  corsOrigins: config.CORS_ORIGINS,
  maxBodyBytes: config.MAX_BODY_BYTES,
});

// Session first (401), then staff (403), for every admin route.
app.use("*", requireSession);
app.use("*", requireStaff);

app.route("/audit", auditRoutes);
app.route("/jobs", jobRoutes);
app.route("/migrations", migrationRoutes);

serve(app);
