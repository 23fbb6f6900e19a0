/**
 * The "DB function called directly" side of the webhook benchmarks: the very statement the
 * receiver sends (clerk-webhooks/repositories/events.ts: private.apply_clerk_delivery and the
 * outcome counter in one statement) for a user.updated, minus HTTP, the Svix signature and parsing.
 */
import type postgres from "postgres";

export interface DirectUserUpdate {
  svixId: string;
  userId: string;
  at: Date;
  email: string;
}

export async function applyUserUpdatedDirectly(sql: postgres.Sql, event: DirectUserUpdate): Promise<string> {
  const at = event.at.toISOString();
  // The fields events.ts hands the user.upsert handler for Clerk's sample user.updated.
  const data = {
    email: event.email,
    email_verified: true,
    username: null,
    phone_number: null,
    external_id: null,
    first_name: "Bench",
    last_name: "User",
    image_url: "https://img.clerk.com/sample",
    has_image: true,
    banned: false,
    locked: false,
    locked_until: null,
    clerk_created_at: at,
    clerk_updated_at: at,
    last_sign_in_at: null,
    last_active_at: null,
  };
  const [row] = await sql`
    with delivery as (
      select private.apply_clerk_delivery(
        p_svix_id => ${event.svixId}, p_event_type => 'user.updated', p_user_id => ${event.userId},
        p_event_at => ${event.at}, p_data => ${sql.json(data)}::jsonb, p_warnings => ${[]}::text[]
      ) as outcome
    )
    select private.record_webhook_outcome(d.outcome) as outcome from delivery d`;
  return row.outcome;
}
