/**
 * Response schemas of the clerk-webhooks function, for its OpenAPI document (generated from the
 * route, _shared/openapi.ts). The request is Clerk's event envelope (events.ts), read by the route
 * itself after the signature check over the raw bytes.
 */
import { z } from "zod";

/**
 * What happened to a delivery. `duplicate`: this svix-id was applied before; nothing changed.
 * `pending`: a session event for a user not known yet, kept and applied when the user appears.
 * `impersonated`: a session started by impersonation, audited, not the user's own activity.
 */
export const Outcome = z.enum([
  "applied",
  "stale",
  "tombstoned",
  "pending",
  "impersonated",
  "ignored",
  "duplicate",
]);

/** The answer to a delivery that was applied (or recognised as applied before). */
export const Receipt = z.object({
  svix_id: z.string(),
  type: z.string(),
  outcome: Outcome,
});
