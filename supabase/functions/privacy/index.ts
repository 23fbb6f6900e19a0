/**
 * Data-subject requests edge function: /functions/v1/privacy/...
 *   POST /requests, GET /requests, GET /requests/:id, POST /requests/:id/cancel,
 *   POST /requests/:id/approve, GET /requests/:id/export, GET /data-map (staff),
 *   POST /erasures/run (admin session or the scheduler's shared secret).
 * Composes the shared frame, the Clerk session check and the route modules; nothing else.
 * See docs/PRIVACY.md.
 */
import { configureDatabase } from "../_shared/db.ts";
import { createSessionVerifier } from "../_shared/auth.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { loadPrivacyConfig } from "./config.ts";
import { createClerkBackend } from "./clerk_backend.ts";
import { requestRoutes } from "./routes/requests.ts";
import { dataMapRoutes } from "./routes/data_map.ts";
import { erasureRoutes } from "./routes/erasures.ts";

const config = loadPrivacyConfig();

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

const clerk = config.CLERK_SECRET_KEY
  ? createClerkBackend({ secretKey: config.CLERK_SECRET_KEY, apiUrl: config.CLERK_API_URL })
  : undefined;

export const app = createFunctionApp("privacy", {
  corsOrigins: config.CORS_ORIGINS,
  maxBodyBytes: config.MAX_BODY_BYTES,
});

// Its own authentication: the scheduler's secret or an admin session.
app.route("/erasures", erasureRoutes({ requireSession, runnerSecret: config.PRIVACY_RUNNER_SECRET, clerk }));

app.use("/requests", requireSession);
app.use("/requests/*", requireSession);
app.use("/data-map", requireSession);
app.route("/requests", requestRoutes);
app.route("/data-map", dataMapRoutes);

serve(app);
