/**
 * Client API edge function: /functions/v1/api/...
 * Composes the shared frame, the Clerk session check and the route modules; nothing else.
 */
import { z } from "zod";
import { ClerkSessionSettings, DatabaseSettings, HttpSettings, loadConfig } from "../_shared/config.ts";
import { configureDatabaseFrom } from "../_shared/db.ts";
import { sessionVerifierFrom } from "../_shared/auth.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { healthRoutes } from "./routes/health.ts";
import { meRoutes } from "./routes/me.ts";
import { projectRoutes } from "./routes/projects.ts";
import { tabRoutes } from "./routes/tabs.ts";
import { historyRoutes } from "./routes/history.ts";
import { openApiDocument } from "./openapi.ts";

const config = loadConfig(z.object({ ...DatabaseSettings, ...ClerkSessionSettings, ...HttpSettings }));

configureDatabaseFrom(config);

const { requireSession } = sessionVerifierFrom(config);

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
