/** GET /me, PATCH /me: the caller's own user row. */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { validate } from "../../_shared/validation.ts";
import { withUser } from "../../_shared/db.ts";
import { UpdateMeBody } from "../schemas.ts";
import { findOrProvisionMe, updateMe } from "../repositories/users.ts";
import { profileFromClaims } from "../profile.ts";

export const meRoutes = new Hono<SessionEnv>()
  .get("/", async (c) => {
    const claims = c.get("claims");
    return c.json(
      await withUser(claims, (tx) => findOrProvisionMe(tx, claims.sub, profileFromClaims(claims))),
    );
  })
  .patch("/", validate("json", UpdateMeBody), async (c) => {
    const claims = c.get("claims");
    const patch = c.req.valid("json");
    return c.json(await withUser(claims, (tx) => updateMe(tx, claims.sub, profileFromClaims(claims), patch)));
  });
