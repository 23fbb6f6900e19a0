/**
 * Admin edge function: /functions/v1/admin/... for staff (support and admin).
 * Every route needs a Clerk session AND staff status read from the database (403 otherwise).
 * Composes the shared frame, the two checks and the route modules; nothing else.
 */
import { z } from "zod";
import { ClerkSessionSettings, DatabaseSettings, HttpSettings, loadConfig } from "../_shared/config.ts";
import { configureDatabaseFrom } from "../_shared/db.ts";
import { sessionVerifierFrom } from "../_shared/auth.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { requireStaff } from "./staff.ts";
import { auditRoutes } from "./routes/audit.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { migrationRoutes } from "./routes/migrations.ts";

const config = loadConfig(z.object({ ...DatabaseSettings, ...ClerkSessionSettings, ...HttpSettings }));

configureDatabaseFrom(config);

const { requireSession } = sessionVerifierFrom(config);

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
