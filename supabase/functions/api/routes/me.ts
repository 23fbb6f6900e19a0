/** GET /me, PATCH /me: the caller's own user row. */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { validate } from "../../_shared/validation.ts";
import { UpdateMeBody } from "../schemas.ts";
import { findOrProvisionMe, updateMe } from "../repositories/users.ts";
import { profileFromClaims } from "../profile.ts";

export const meRoutes = new Hono<SessionEnv>()
  .get("/", async (c) => {
    const claims = c.get("claims");
    return c.json(await findOrProvisionMe(claims, profileFromClaims(claims)));
  })
  .patch("/", validate("json", UpdateMeBody), async (c) => {
    const claims = c.get("claims");
    return c.json(await updateMe(claims, profileFromClaims(claims), c.req.valid("json")));
  });
