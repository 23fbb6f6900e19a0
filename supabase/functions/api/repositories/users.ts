/**
 * SQL for the caller's own user row. Every statement runs as the caller, under RLS; the route
 * chooses the transaction (withUser), so these compose with other statements in one.
 */
import type { JsonObject, Tx } from "../../_shared/db.ts";
import type { UserRow } from "../rows.ts";

const USER_COLUMNS = `id, email, first_name, last_name, image_url, display_name, preferences, role,
  last_sign_in_at, last_active_at, created_at, updated_at`;

/** Profile fields a verified token may carry; used only to provision a user the webhook has not created yet. */
export interface TokenProfile {
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  image_url: string | null;
}

/**
 * Just-in-time provisioning: creates the caller's row when Clerk's webhook has not arrived yet.
 * Concurrent first requests race safely on the primary key; the webhook later completes the row.
 * Meant to be pipelined in front of the statement that needs the row.
 */
export function provisionUser(tx: Tx, userId: string, profile: TokenProfile) {
  return tx`
    insert into public.users (id, email, first_name, last_name, image_url)
    values (${userId}, ${profile.email}, ${profile.first_name}, ${profile.last_name}, ${profile.image_url})
    on conflict (id) do nothing
  `;
}

/** The caller's row, provisioned first if needed. */
export async function findOrProvisionMe(tx: Tx, userId: string, profile: TokenProfile) {
  const provision = provisionUser(tx, userId, profile);
  const select = tx<UserRow[]>`select ${tx.unsafe(USER_COLUMNS)} from public.users where id = ${userId}`;
  // Both awaited at once: postgres.js sends a statement only when it is awaited, so one after the
  // other would be two round trips. The server still runs them in order.
  const [, [row]] = await Promise.all([provision, select]);
  return row;
}

export interface MePatch {
  display_name?: string | null;
  preferences?: Record<string, unknown>;
}

/** Updates the fields the user owns (provisioning the row first if needed) and returns the row. */
export async function updateMe(tx: Tx, userId: string, profile: TokenProfile, patch: MePatch) {
  const provision = provisionUser(tx, userId, profile);
  const update = tx<UserRow[]>`
      update public.users set
        display_name = case when ${"display_name" in patch} then ${
    patch.display_name ?? null
  } else display_name end,
        preferences = coalesce(${
    patch.preferences === undefined ? null : tx.json(patch.preferences as JsonObject)
  }::jsonb, preferences)
      where id = ${userId}
      returning ${tx.unsafe(USER_COLUMNS)}
    `;
  const [, [row]] = await Promise.all([provision, update]);
  return row;
}
