/**
 * Settings of the clerk-webhooks function, validated once at start-up with zod (through the shared
 * `loadConfig`, so a missing secret stops the isolate with a message naming it, never its value).
 */
import { z } from "zod";
import { Webhook } from "svix";
import { DatabaseSettings, HttpSettings, loadConfig } from "../_shared/config.ts";

/** A Svix endpoint secret as Clerk shows it: `whsec_` + base64 of the key. */
const svixSecret = z
  .string()
  .trim()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, "must be the endpoint's signing secret (whsec_...)")
  .refine((secret) => {
    try {
      new Webhook(secret);
      return true;
    } catch {
      return false;
    }
  }, "is not a valid Svix signing secret (whsec_ followed by base64)");

export const WebhookSettings = {
  /** Clerk dashboard -> Webhooks -> endpoint -> Signing Secret. Surrounding whitespace is trimmed. */
  CLERK_WEBHOOK_SIGNING_SECRET: svixSecret,
};

export const WebhookConfig = z.object({
  ...DatabaseSettings,
  MAX_BODY_BYTES: HttpSettings.MAX_BODY_BYTES,
  ...WebhookSettings,
});

export type WebhookConfig = z.output<typeof WebhookConfig>;

/** Reads and validates the environment (or `env`, for tests). */
export function loadWebhookConfig(env?: Record<string, string>): WebhookConfig {
  return loadConfig(WebhookConfig, env);
}
