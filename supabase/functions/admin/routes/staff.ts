/**
 * GET /staff (list), PUT /staff/:user_id {role} (grant support or admin), DELETE /staff/:user_id
 * (revoke: back to user). Admins only, decided by the database (private.set_staff_role), in the
 * admin's own transaction, so the role-change audit entry names the admin as actor.
 */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { queryAsUser } from "../../_shared/db.ts";
import { validate } from "../../_shared/validation.ts";
import { GrantStaffBody, NoQuery, StaffUserParam } from "../staff_schemas.ts";
import { listStaffMembers, setStaffRole } from "../repositories/staff_members.ts";

export const staffRoutes = new Hono<SessionEnv>()
  .get("/", validate("query", NoQuery), async (c) => {
    const rows = await queryAsUser(c.get("claims"), listStaffMembers, { requestId: c.get("requestId") });
    return c.json({ data: rows });
  })
  .put("/:user_id", validate("param", StaffUserParam), validate("json", GrantStaffBody), async (c) => {
    const { user_id } = c.req.valid("param");
    const [row] = await queryAsUser(
      c.get("claims"),
      (tx) => setStaffRole(tx, user_id, c.req.valid("json").role),
      { requestId: c.get("requestId") },
    );
    return c.json(row);
  })
  .delete("/:user_id", validate("param", StaffUserParam), async (c) => {
    const { user_id } = c.req.valid("param");
    const [row] = await queryAsUser(
      c.get("claims"),
      (tx) => setStaffRole(tx, user_id, "user"),
      { requestId: c.get("requestId") },
    );
    return c.json(row);
  });
