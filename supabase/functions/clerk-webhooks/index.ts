/**
 * Clerk webhook receiver: POST /functions/v1/clerk-webhooks (Svix-signed user and session events).
 * Composes the shared frame, the Svix verifier and the receive route; nothing else.
 * See docs/WEBHOOKS.md.
 */
import { configureDatabaseFrom } from "../_shared/db.ts";
import { createFunctionApp, serve } from "../_shared/http.ts";
import { loadWebhookConfig } from "./config.ts";
import { createWebhookVerifier } from "./verify.ts";
import { receiveRoutes } from "./routes/receive.ts";

const config = loadWebhookConfig();

configureDatabaseFrom(config);

// Server to server: no CORS.
export const app = createFunctionApp("clerk-webhooks", {
  corsOrigins: [],
  maxBodyBytes: config.MAX_BODY_BYTES,
});

app.route("/", receiveRoutes(createWebhookVerifier(config.CLERK_WEBHOOK_SIGNING_SECRET)));

serve(app);
