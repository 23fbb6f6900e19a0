/**
 * Clerk webhook receiver: POST /functions/v1/clerk-webhooks (Svix-signed user and session events).
 * Composes the shared frame, the Svix verifier and the receive route; nothing else.
 * See docs/WEBHOOKS.md.
 *
 * Deny by default: no route is public; every route is mounted on `signed`, a sub-app whose first
 * middleware checks the Svix signature (401), unknown paths included.
 */
import { Hono } from "hono";
import { configureDatabaseFrom } from "../_shared/db.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { loadWebhookConfig } from "./config.ts";
import { createWebhookVerifier } from "./verify.ts";
import { receiveRoutes, requireSignature } from "./routes/receive.ts";
import type { WebhookEnv } from "./routes/receive.ts";

const config = loadWebhookConfig();

configureDatabaseFrom(config);

// Server to server: no CORS.
export const app = createFunctionApp("clerk-webhooks", {
  corsOrigins: [],
  maxBodyBytes: config.MAX_BODY_BYTES,
});

const signed = new Hono<WebhookEnv>();
signed.use("*", requireSignature(createWebhookVerifier(config.CLERK_WEBHOOK_SIGNING_SECRET)));
signed.route("/", receiveRoutes());
app.route("/", signed);

serve(app);
