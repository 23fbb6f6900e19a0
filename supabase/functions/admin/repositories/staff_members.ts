/**
 * SQL for staff management. Each function takes the transaction the route chose (the admin's own,
 * under RLS: `queryAsUser`/`withUser`); private.staff_members() and private.set_staff_role() are
 * security definer functions that check the caller is an admin themselves (P0001, hint http:403),
 * refuse to demote the last admin (http:409), and are audited in the same transaction.
 */
import type { Tx } from "../../_shared/db.ts";

export type StaffRole = "support" | "admin";

export interface StaffMemberRow {
  user_id: string;
  role: StaffRole;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  display_name: string | null;
  updated_at: string;
}

export interface RoleChangeRow {
  user_id: string;
  role: "user" | StaffRole;
  previous_role: string | null;
}

/** Every support and admin user (admins only; audited as staff.listed). */
export function listStaffMembers(tx: Tx) {
  return tx<StaffMemberRow[]>`
    select user_id, role, email, first_name, last_name, display_name, updated_at
      from private.staff_members()
  `;
}

/** Sets a user's role (`user` revokes); audited as user.role.changed with the caller as actor. */
export function setStaffRole(tx: Tx, userId: string, role: "user" | StaffRole) {
  return tx<RoleChangeRow[]>`
    select user_id, role, previous_role from private.set_staff_role(${userId}, ${role})
  `;
}
