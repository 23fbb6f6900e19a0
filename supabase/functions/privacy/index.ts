/**
 * Data-subject requests edge function: /functions/v1/privacy/...
 *   POST /requests, GET /requests, GET /requests/:id, POST /requests/:id/cancel,
 *   POST /requests/:id/approve, GET /requests/:id/export, GET /data-map (staff),
 *   POST /erasures/run (admin session or the scheduler's shared secret).
 * Composes the shared frame, the Clerk session check and the route modules; nothing else.
 * See docs/PRIVACY.md.
 *
 * Deny by default: POST /erasures/run checks its own credentials (the runner secret or an admin
 * session, in the route); every other route is mounted on `signedIn`, a sub-app whose first
 * middleware is requireSession. No route is public.
 */
import { Hono } from "hono";
import { configureDatabaseFrom } from "../_shared/db.ts";
import { sessionVerifierFrom } from "../_shared/auth.ts";
import type { SessionEnv } from "../_shared/auth.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { loadPrivacyConfig } from "./config.ts";
import { createClerkBackend } from "./clerk_backend.ts";
import { requestRoutes } from "./routes/requests.ts";
import { dataMapRoutes } from "./routes/data_map.ts";
import { erasureRoutes } from "./routes/erasures.ts";
import { serveOpenApi } from "../_shared/openapi.ts";

const config = loadPrivacyConfig();

configureDatabaseFrom(config);

const { requireSession } = sessionVerifierFrom(config);

const clerk = config.CLERK_SECRET_KEY
  ? createClerkBackend({ secretKey: config.CLERK_SECRET_KEY, apiUrl: config.CLERK_API_URL })
  : undefined;

export const app = createFunctionApp("privacy", {
  corsOrigins: config.CORS_ORIGINS,
  maxBodyBytes: config.MAX_BODY_BYTES,
});

/** Routes that authenticate in their handler (the scheduler's secret or an admin session). */
export const SELF_AUTHENTICATED_ROUTES = ["/privacy/erasures/run"];

app.route("/erasures", erasureRoutes({ requireSession, runnerSecret: config.PRIVACY_RUNNER_SECRET, clerk }));

// Everything below needs a session, unknown paths included.
const signedIn = new Hono<SessionEnv>();
signedIn.use("*", requireSession);
signedIn.route("/requests", requestRoutes);
signedIn.route("/data-map", dataMapRoutes);
serveOpenApi(signedIn, app, {
  title: "Workspace privacy API",
  description: "Data-subject requests (export, erasure) and the data map. docs/PRIVACY.md.",
  basePath: "/privacy",
  selfAuthenticated: { "POST /privacy/erasures/run": [{ runnerSecret: [] }, { clerkSession: [] }] },
  standardErrors: {
    429: "Over the rate limit: retry after `Retry-After` seconds",
  },
  securitySchemes: {
    runnerSecret: { type: "apiKey", in: "header", name: "x-privacy-runner-secret" },
  },
});
app.route("/", signedIn);

serve(app);
