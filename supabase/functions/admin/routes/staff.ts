/**
 * GET /staff (list), PUT /staff/:user_id {role} (grant support or admin), DELETE /staff/:user_id
 * (revoke: back to user). Admins only, decided by the database (private.set_staff_role), in the
 * admin's own transaction, so the role-change audit entry names the admin as actor.
 */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { queryAsUser } from "../../_shared/db.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { NoQuery } from "../../_shared/schemas.ts";
import { GrantStaffBody, RoleChange, StaffList, StaffUserParam } from "../staff_schemas.ts";
import { listStaffMembers, setStaffRole } from "../repositories/staff_members.ts";

export const staffRoutes = new Hono<SessionEnv>()
  .get(
    "/",
    documented({
      summary: "Who is support or admin",
      responses: { 200: { description: "The staff members", schema: StaffList } },
    }),
    validate("query", NoQuery),
    async (c) => {
      const rows = await queryAsUser(c.get("claims"), listStaffMembers);
      return c.json({ data: rows });
    },
  )
  .put(
    "/:user_id",
    documented({
      summary: "Grant support or admin (admins only)",
      responses: {
        200: { description: "The member with the new role", schema: RoleChange },
        403: "Not an admin",
        404: "No such user",
      },
    }),
    validate("param", StaffUserParam),
    validate("json", GrantStaffBody),
    async (c) => {
      const { user_id } = c.req.valid("param");
      const [row] = await queryAsUser(
        c.get("claims"),
        (tx) => setStaffRole(tx, user_id, c.req.valid("json").role),
      );
      return c.json(row);
    },
  )
  .delete(
    "/:user_id",
    documented({
      summary: "Revoke staff: back to user (admins only; never the last admin)",
      responses: {
        200: { description: "The member as a user", schema: RoleChange },
        403: "Not an admin",
        404: "No such user",
        409: "The last admin",
      },
    }),
    validate("param", StaffUserParam),
    async (c) => {
      const { user_id } = c.req.valid("param");
      const [row] = await queryAsUser(
        c.get("claims"),
        (tx) => setStaffRole(tx, user_id, "user"),
      );
      return c.json(row);
    },
  );
