/** GET /me, PATCH /me: the caller's own user row. */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { withUser } from "../../_shared/db.ts";
import { UpdateMeBody, User } from "../schemas.ts";
import { findOrProvisionMe, updateMe } from "../repositories/users.ts";
import { profileFromClaims } from "../profile.ts";

export const meRoutes = new Hono<SessionEnv>()
  .get(
    "/",
    documented({ summary: "The caller's user row (provisioned just in time)", responses: { 200: User } }),
    async (c) => {
      const claims = c.get("claims");
      return c.json(
        await withUser(claims, (tx) => findOrProvisionMe(tx, claims.sub, profileFromClaims(claims))),
      );
    },
  )
  .patch(
    "/",
    documented({ summary: "Update fields the user owns", responses: { 200: User } }),
    validate("json", UpdateMeBody),
    async (c) => {
      const claims = c.get("claims");
      const patch = c.req.valid("json");
      return c.json(
        await withUser(claims, (tx) => updateMe(tx, claims.sub, profileFromClaims(claims), patch)),
      );
    },
  );
