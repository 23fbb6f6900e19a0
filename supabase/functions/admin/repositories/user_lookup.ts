/**
 * SQL for the staff user lookup. Takes the transaction the route chose (the staff member's own:
 * `queryAsUser`); private.staff_find_users() checks staff itself (P0001, hint http:403) and records
 * the lookup (staff.users.searched: the kind of search and the ids found, never the search text).
 */
import type { Tx } from "../../_shared/db.ts";

export type LookupKind = "email" | "id" | "name";

export interface FoundUserRow {
  user_id: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  display_name: string | null;
  /** Null when only a tombstone is left (the user was deleted at Clerk). */
  role: string | null;
  created_at: string | null;
  last_active_at: string | null;
  projects: number;
  tabs: number;
  history: number;
  open_requests: { id: string; kind: string; status: string; received_at: string; due_at: string }[];
  tombstoned_at: string | null;
  username: string | null;
  email_verified: boolean | null;
  /** Clerk's ban and lock (docs/WEBHOOKS.md): a suspended user is refused by every API. */
  banned: boolean | null;
  locked: boolean | null;
  locked_until: string | null;
}

/** Users whose email or name starts with `query` (case-insensitive), or whose Clerk id is `query`. */
export function findUsers(tx: Tx, by: LookupKind, query: string, limit: number) {
  return tx<FoundUserRow[]>`
    select user_id, email, first_name, last_name, display_name, role, created_at, last_active_at,
           projects::int as projects, tabs::int as tabs, history::int as history, open_requests, tombstoned_at,
           username, email_verified, banned, locked, locked_until
      from private.staff_find_users(${by}, ${query}, ${limit})
  `;
}
