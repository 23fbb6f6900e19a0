/**
 * Data-subject requests edge function: /functions/v1/privacy/...
 *   POST /requests, GET /requests, GET /requests/:id, POST /requests/:id/cancel,
 *   POST /requests/:id/approve, GET /requests/:id/export, GET /data-map (staff),
 *   POST /erasures/run (admin session or the scheduler's shared secret).
 * Composes the shared frame, the Clerk session check and the route modules; nothing else.
 * See docs/PRIVACY.md.
 */
import { configureDatabaseFrom } from "../_shared/db.ts";
import { sessionVerifierFrom } from "../_shared/auth.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { loadPrivacyConfig } from "./config.ts";
import { createClerkBackend } from "./clerk_backend.ts";
import { requestRoutes } from "./routes/requests.ts";
import { dataMapRoutes } from "./routes/data_map.ts";
import { erasureRoutes } from "./routes/erasures.ts";

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

// Its own authentication: the scheduler's secret or an admin session.
app.route("/erasures", erasureRoutes({ requireSession, runnerSecret: config.PRIVACY_RUNNER_SECRET, clerk }));

app.use("/requests", requireSession);
app.use("/requests/*", requireSession);
app.use("/data-map", requireSession);
app.route("/requests", requestRoutes);
app.route("/data-map", dataMapRoutes);

serve(app);
