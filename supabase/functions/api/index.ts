/**
 * Client API edge function: /functions/v1/api/...
 * Composes the shared frame, the Clerk session check and the route modules; nothing else.
 */
import { z } from "zod";
import { ClerkSessionSettings, DatabaseSettings, HttpSettings, loadConfig } from "../_shared/config.ts";
import { configureDatabase } from "../_shared/db.ts";
import { createSessionVerifier } from "../_shared/auth.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { healthRoutes } from "./routes/health.ts";
import { meRoutes } from "./routes/me.ts";
import { projectRoutes } from "./routes/projects.ts";
import { tabRoutes } from "./routes/tabs.ts";
import { historyRoutes } from "./routes/history.ts";
import { openApiDocument } from "./openapi.ts";

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

export const app = createFunctionApp("api", {
  corsOrigins: config.CORS_ORIGINS,
  maxBodyBytes: config.MAX_BODY_BYTES,
});

app.route("/health", healthRoutes);
app.get("/openapi.json", (c) => c.json(openApiDocument(new URL("/functions/v1/api", c.req.url).href)));

app.use("/me/*", requireSession);
app.use("/me", requireSession);
app.use("/projects/*", requireSession);
app.use("/projects", requireSession);
app.route("/me", meRoutes);
app.route("/projects", projectRoutes);
app.route("/projects", tabRoutes);
app.route("/projects", historyRoutes);

serve(app);
