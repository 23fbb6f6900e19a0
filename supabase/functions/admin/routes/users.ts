/**
 * GET /users?email=<prefix> | ?id=<user_…> | ?name=<prefix>: the staff user lookup (profile,
 * counts, open requests, tombstone). Staff only; every lookup is audited by the database as a staff
 * read without the text searched for.
 */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { queryAsUser } from "../../_shared/db.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { FoundUsers, UserLookupQuery } from "../staff_schemas.ts";
import { findUsers } from "../repositories/user_lookup.ts";
import type { LookupKind } from "../repositories/user_lookup.ts";

export const userLookupRoutes = new Hono<SessionEnv>()
  .get(
    "/",
    documented({
      summary: "Find users by email prefix, Clerk id or name prefix (audited as a staff read)",
      responses: {
        200: {
          description: "The users found, with counts, open requests, tombstone and Clerk account state",
          schema: FoundUsers,
        },
      },
    }),
    validate("query", UserLookupQuery),
    async (c) => {
      const query = c.req.valid("query");
      const [by, text]: [LookupKind, string] = query.email !== undefined
        ? ["email", query.email]
        : query.id !== undefined
        ? ["id", query.id]
        : ["name", query.name!];
      const rows = await queryAsUser(
        c.get("claims"),
        (tx) => findUsers(tx, by, text, query.limit),
      );
      return c.json({ data: rows });
    },
  );
