/**
 * All SQL of the clerk-webhooks function: one call of private.apply_clerk_delivery per delivery, as
 * the service role (the webhook is automation; its input was authenticated by the Svix signature).
 * begin, role, the call and commit are written together on one connection: one round trip, and
 * the answer is given only once the commit is confirmed. The same statement counts the delivery's
 * outcome (private.record_webhook_outcome, ops.webhook_deliveries): a CTE around the call, so the
 * count commits with the effect or not at all. A signed delivery whose payload cannot be read is
 * counted by `recordRejection`, with nothing of the body; a bad signature is counted in memory
 * only (_shared/signals.ts), so an unsigned request never costs a database write.
 */
import { queryAsServiceRole } from "../../_shared/db.ts";
import type { JsonObject } from "../../_shared/db.ts";
import type { ClerkEvent } from "../events.ts";
import type { z } from "zod";
import type { Outcome as OutcomeSchema } from "../schemas.ts";

/** What happened to a delivery (schemas.ts). */
export type Outcome = z.output<typeof OutcomeSchema>;

/** The automation's name in request.jwt.claims (and so in the audit log). */
export const ACTOR = "clerk-webhooks";

/** The normalised fields private.apply_clerk_delivery hands to the handler of the event's type. */
function eventData(event: ClerkEvent): JsonObject {
  switch (event.kind) {
    case "user.upsert": {
      const p = event.profile;
      return {
        email: p.email,
        email_verified: p.emailVerified,
        username: p.username,
        phone_number: p.phoneNumber,
        external_id: p.externalId,
        first_name: p.firstName,
        last_name: p.lastName,
        image_url: p.imageUrl,
        has_image: p.hasImage,
        banned: p.banned,
        locked: p.locked,
        locked_until: event.lockedUntil?.toISOString() ?? null,
        clerk_created_at: p.clerkCreatedAt.toISOString(),
        clerk_updated_at: p.clerkUpdatedAt.toISOString(),
        last_sign_in_at: p.lastSignInAt?.toISOString() ?? null,
        last_active_at: p.lastActiveAt?.toISOString() ?? null,
      };
    }
    case "session": {
      const s = event.session;
      return {
        session_id: s.sessionId,
        started_at: s.startedAt?.toISOString() ?? null,
        last_active_at: s.lastActiveAt?.toISOString() ?? null,
        impersonated: s.impersonated,
        actor_id: s.actorId,
      };
    }
    default:
      return {};
  }
}

/** Records the delivery in the inbox and applies its effect, exactly once per svix-id. */
export async function applyClerkEvent(event: ClerkEvent, requestId?: string): Promise<Outcome> {
  const [row] = await queryAsServiceRole(
    ACTOR,
    (tx) =>
      tx`
        with delivery as (
          select private.apply_clerk_delivery(
            p_svix_id => ${event.svixId},
            p_event_type => ${event.type},
            p_user_id => ${event.userId},
            p_event_at => ${event.eventAt},
            p_data => ${tx.json(eventData(event))}::jsonb,
            p_warnings => ${event.warnings}::text[]
          ) as outcome
        )
        select private.record_webhook_outcome(d.outcome) as outcome from delivery d
      `,
    { requestId },
  );
  return row.outcome as Outcome;
}

/** Why a delivery was refused before anything was applied. */
export type Rejection = "rejected_signature" | "rejected_payload";

/** Counts one refused delivery (ops.webhook_deliveries): an outcome and a minute, nothing else. */
export async function recordRejection(rejection: Rejection, requestId?: string): Promise<void> {
  await queryAsServiceRole(ACTOR, (tx) => tx`select private.record_webhook_outcome(${rejection})`, {
    requestId,
  });
}
