/**
 * Client API edge function: /functions/v1/api/...
 * Composes the shared frame, the Clerk session check and the route modules; nothing else.
 *
 * Deny by default: the public routes (health, openapi.json) are named here; every other route is
 * mounted on `signedIn`, a sub-app whose first middleware is requireSession, so a new route
 * module cannot run without claims by being left out of a list. The OpenAPI document is generated
 * from the routes (_shared/openapi.ts): a route's own `documented()` and `validate()` middlewares.
 */
import { Hono } from "hono";
import { z } from "zod";
import { ClerkSessionSettings, DatabaseSettings, HttpSettings, loadConfig } from "../_shared/config.ts";
import { configureDatabaseFrom } from "../_shared/db.ts";
import { sessionVerifierFrom } from "../_shared/auth.ts";
import type { SessionEnv } from "../_shared/auth.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { healthRoutes } from "./routes/health.ts";
import { meRoutes } from "./routes/me.ts";
import { projectRoutes } from "./routes/projects.ts";
import { tabRoutes } from "./routes/tabs.ts";
import { historyRoutes } from "./routes/history.ts";
import { serveOpenApi } from "../_shared/openapi.ts";

const config = loadConfig(z.object({ ...DatabaseSettings, ...ClerkSessionSettings, ...HttpSettings }));

configureDatabaseFrom(config);

const { requireSession } = sessionVerifierFrom(config);

export const app = createFunctionApp("api", {
  corsOrigins: config.CORS_ORIGINS,
  maxBodyBytes: config.MAX_BODY_BYTES,
});

/** The only routes without a session. They must be registered before `signedIn` is mounted. */
export const PUBLIC_ROUTES = ["/api/health", "/api/openapi.json"];

app.route("/health", healthRoutes);
serveOpenApi(app, app, {
  title: "Workspace client API",
  description:
    "Called by client apps with a Clerk session token. Row-level security decides every read and write.",
  basePath: "/api",
  publicRoutes: PUBLIC_ROUTES.map((path) => `GET ${path}`),
});

// Everything below needs a session; the middleware matches every path, unknown ones included
// (an unauthenticated caller gets 401, not a map of which routes exist).
const signedIn = new Hono<SessionEnv>();
signedIn.use("*", requireSession);
signedIn.route("/me", meRoutes);
signedIn.route("/projects", projectRoutes);
signedIn.route("/projects", tabRoutes);
signedIn.route("/projects", historyRoutes);
app.route("/", signedIn);

serve(app);
