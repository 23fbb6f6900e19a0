/**
 * Admin edge function: /functions/v1/admin/... for staff (support and admin).
 * Every route needs a Clerk session AND staff status read from the database (403 otherwise).
 * Composes the shared frame, the two checks and the route modules; nothing else.
 *
 * Deny by default: no route is public; every route is mounted on `staffOnly`, a sub-app whose
 * first middlewares are requireSession (401) and requireStaff (403).
 */
import { Hono } from "hono";
import { z } from "zod";
import { ClerkSessionSettings, DatabaseSettings, HttpSettings, loadConfig } from "../_shared/config.ts";
import { configureDatabaseFrom } from "../_shared/db.ts";
import { sessionVerifierFrom } from "../_shared/auth.ts";
import type { SessionEnv } from "../_shared/auth.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { requireStaff } from "./staff.ts";
import { auditRoutes } from "./routes/audit.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { migrationRoutes } from "./routes/migrations.ts";
import { serveOpenApi } from "../_shared/openapi.ts";

const config = loadConfig(z.object({ ...DatabaseSettings, ...ClerkSessionSettings, ...HttpSettings }));

configureDatabaseFrom(config);

const { requireSession } = sessionVerifierFrom(config);

export const app = createFunctionApp("admin", {
  corsOrigins: config.CORS_ORIGINS,
  maxBodyBytes: config.MAX_BODY_BYTES,
});

// Session first (401), then staff (403), for every admin route and unknown paths.
const staffOnly = new Hono<SessionEnv>();
staffOnly.use("*", requireSession);
staffOnly.use("*", requireStaff);
staffOnly.route("/audit", auditRoutes);
staffOnly.route("/jobs", jobRoutes);
staffOnly.route("/migrations", migrationRoutes);
serveOpenApi(staffOnly, app, {
  title: "Workspace admin API",
  description: "For staff (support and admin per public.users.role): audit log, jobs, migrations.",
  basePath: "/admin",
  standardErrors: {
    403: "Not staff",
  },
});
app.route("/", staffOnly);

serve(app);
