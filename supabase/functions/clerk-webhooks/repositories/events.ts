/**
 * All SQL of the clerk-webhooks function: one call of private.apply_clerk_event per delivery, as
 * the service role (the webhook is automation; its input was authenticated by the Svix signature).
 * begin, role, the call and commit are written together on one connection: one round trip, and
 * the answer is given only once the commit is confirmed. The same statement counts the delivery's
 * outcome (private.record_webhook_outcome, ops.webhook_deliveries): a CTE around the call, so the
 * count commits with the effect or not at all. Rejections (bad signature, bad payload) are
 * counted by `recordRejection`, with nothing of the body.
 */
import { queryAsServiceRole } from "../../_shared/db.ts";
import type { ClerkEvent } from "../events.ts";

/** What happened to a delivery. `duplicate`: this svix-id was applied before; nothing changed. */
export type Outcome = "applied" | "stale" | "tombstoned" | "unknown_user" | "ignored" | "duplicate";

/** The automation's name in request.jwt.claims (and so in the audit log). */
export const ACTOR = "clerk-webhooks";

/** Records the delivery in the inbox and applies its effect, exactly once per svix-id. */
export async function applyClerkEvent(event: ClerkEvent, requestId?: string): Promise<Outcome> {
  const profile = event.kind === "user.upsert" ? event.profile : undefined;
  const session = event.kind === "session" ? event : undefined;
  const [row] = await queryAsServiceRole(
    ACTOR,
    (tx) =>
      tx`
        with delivery as (
          select private.apply_clerk_event(
          p_svix_id => ${event.svixId},
          p_event_type => ${event.type},
          p_user_id => ${event.userId},
          p_event_at => ${event.eventAt},
          p_email => ${profile?.email ?? null},
          p_first_name => ${profile?.firstName ?? null},
          p_last_name => ${profile?.lastName ?? null},
          p_image_url => ${profile?.imageUrl ?? null},
          p_clerk_created_at => ${profile?.clerkCreatedAt ?? null},
          p_clerk_updated_at => ${profile?.clerkUpdatedAt ?? null},
          p_last_sign_in_at => ${profile?.lastSignInAt ?? session?.lastSignInAt ?? null},
          p_last_active_at => ${profile?.lastActiveAt ?? session?.lastActiveAt ?? null}
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
