/**
 * Clerk webhook receiver: POST /functions/v1/clerk-webhooks (Svix-signed user and session events).
 * Composes the shared frame, the Svix verifier and the receive route; nothing else.
 * See docs/WEBHOOKS.md.
 *
 * Deny by default: the one public route (GET /openapi.json, the document generated from the
 * route, _shared/openapi.ts) is registered first; every other route is mounted on `signed`, a
 * sub-app whose first middleware checks the Svix signature (401), unknown paths included.
 */
import { Hono } from "hono";
import { configureDatabaseFrom } from "../_shared/db.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { loadWebhookConfig } from "./config.ts";
import { createWebhookVerifier } from "./verify.ts";
import { receiveRoutes, requireSignature } from "./routes/receive.ts";
import type { WebhookEnv } from "./routes/receive.ts";
import { serveOpenApi } from "../_shared/openapi.ts";

const config = loadWebhookConfig();

configureDatabaseFrom(config);

// Server to server: no CORS.
export const app = createFunctionApp("clerk-webhooks", {
  corsOrigins: [],
  maxBodyBytes: config.MAX_BODY_BYTES,
});

/** The only route without a signature. It must be registered before `signed` is mounted. */
export const PUBLIC_ROUTES = ["/clerk-webhooks/openapi.json"];

serveOpenApi(app, app, {
  title: "Clerk webhook receiver",
  description: "Called by Svix on behalf of Clerk, never by clients. docs/WEBHOOKS.md.",
  basePath: "/clerk-webhooks",
  publicRoutes: PUBLIC_ROUTES.map((path) => `GET ${path}`),
  sessionScheme: {
    svixSignature: {
      type: "apiKey",
      in: "header",
      name: "svix-signature",
      description:
        "Svix signature (v1, HMAC-SHA256 with CLERK_WEBHOOK_SIGNING_SECRET) over svix-id, svix-timestamp (within 5 minutes) and the raw body",
    },
  },
  standardErrors: {
    401: "Missing svix headers, or a signature that is not valid (nothing written; Svix retries)",
    503: "The database is unavailable: nothing was applied, Svix retries after `Retry-After` seconds",
  },
});

const signed = new Hono<WebhookEnv>();
signed.use("*", requireSignature(createWebhookVerifier(config.CLERK_WEBHOOK_SIGNING_SECRET)));
signed.route("/", receiveRoutes());
app.route("/", signed);

serve(app);
