/**
 * Admin edge function: /functions/v1/admin/... for staff (support and admin).
 * Every route needs a Clerk session AND staff status read from the database (403 otherwise).
 * Composes the shared frame, the two checks and the route modules; nothing else.
 *
 * Deny by default: no route is public; every route is mounted on `staffOnly`, a sub-app whose
 * first middlewares are requireSession (401) and requireStaff (403), except the two routes
 * automation may call with a configured secret instead (machine_auth.ts; without the secret they
 * need the same staff session): GET /metrics (Prometheus scrape token) and POST /alerts/dispatch
 * (pg_cron through pg_net).
 */
import { Hono } from "hono";
import { z } from "zod";
import {
  ClerkSessionSettings,
  DatabaseSettings,
  HttpSettings,
  loadConfig,
  OperationsSettings,
} from "../_shared/config.ts";
import { configureDatabaseFrom } from "../_shared/db.ts";
import { sessionVerifierFrom } from "../_shared/auth.ts";
import type { SessionEnv } from "../_shared/auth.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { requireStaff } from "./staff.ts";
import { auditRoutes } from "./routes/audit.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { migrationRoutes } from "./routes/migrations.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { alertRoutes, dispatchRoutes } from "./routes/alerts.ts";
import { bearerToken, staffOrSecret } from "./machine_auth.ts";
import { staffRoutes } from "./routes/staff.ts";
import { userLookupRoutes } from "./routes/users.ts";
import { serveOpenApi } from "../_shared/openapi.ts";

const config = loadConfig(
  z.object({ ...DatabaseSettings, ...ClerkSessionSettings, ...HttpSettings, ...OperationsSettings }),
);

configureDatabaseFrom(config);

const { requireSession } = sessionVerifierFrom(config);

export const app = createFunctionApp("admin", {
  corsOrigins: config.CORS_ORIGINS,
  maxBodyBytes: config.MAX_BODY_BYTES,
});

// Secret or staff session; registered before staffOnly, whose middleware then never runs for them.
app.use(
  "/metrics",
  staffOrSecret({
    secret: config.METRICS_SCRAPE_TOKEN,
    present: bearerToken,
    automation: "metrics-scraper",
    requireSession,
  }),
);
app.route("/metrics", metricsRoutes);
app.use(
  "/alerts/dispatch",
  staffOrSecret({
    secret: config.ALERT_DISPATCH_SECRET,
    present: (c) => c.req.header("x-alerts-dispatch-secret"),
    automation: "alerts-dispatcher",
    requireSession,
  }),
);
app.route(
  "/alerts/dispatch",
  dispatchRoutes({
    url: config.ALERT_WEBHOOK_URL,
    format: config.ALERT_WEBHOOK_FORMAT,
    timeoutMs: config.ALERT_SEND_TIMEOUT_MS,
  }),
);

// Session first (401), then staff (403), for every admin route and unknown paths.
const staffOnly = new Hono<SessionEnv>();
staffOnly.use("*", requireSession);
staffOnly.use("*", requireStaff);
staffOnly.route("/audit", auditRoutes);
staffOnly.route("/jobs", jobRoutes);
staffOnly.route("/migrations", migrationRoutes);
staffOnly.route("/alerts", alertRoutes);
staffOnly.route("/staff", staffRoutes);
staffOnly.route("/users", userLookupRoutes);
serveOpenApi(staffOnly, app, {
  title: "Workspace admin API",
  description:
    "For staff (support and admin per public.users.role): audit log, jobs, migrations, metrics, alerts, staff, user lookup.",
  basePath: "/admin",
  selfAuthenticated: {
    "GET /admin/metrics": [{ scrapeToken: [] }, { clerkSession: [] }],
    "POST /admin/alerts/dispatch": [{ dispatchSecret: [] }, { clerkSession: [] }],
  },
  securitySchemes: {
    scrapeToken: { type: "http", scheme: "bearer", description: "METRICS_SCRAPE_TOKEN" },
    dispatchSecret: { type: "apiKey", in: "header", name: "x-alerts-dispatch-secret" },
  },
  standardErrors: {
    403: "Not staff",
  },
});
app.route("/", staffOnly);

serve(app);
