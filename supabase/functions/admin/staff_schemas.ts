/**
 * Request schemas of the staff management and user lookup routes (strict: unknown parameters are
 * a 400, so a misspelt `by` never silently searches something else).
 */
import { z } from "zod";
import { CLERK_USER_ID } from "../_shared/auth.ts";

export const StaffUserParam = z.strictObject({
  user_id: z.string().regex(CLERK_USER_ID, "must be a Clerk user id (user_...)"),
});

export const GrantStaffBody = z.strictObject({
  role: z.enum(["support", "admin"]),
});

/** GET /users?email=… | ?id=… | ?name=… — exactly one of them. */
export const UserLookupQuery = z
  .strictObject({
    email: z.string().trim().min(2).max(320).optional(),
    id: z.string().trim().regex(CLERK_USER_ID, "must be a Clerk user id (user_...)").optional(),
    name: z.string().trim().min(2).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(50).default(20),
  })
  .refine((query) => [query.email, query.id, query.name].filter((v) => v !== undefined).length === 1, {
    message: "give exactly one of email, id or name",
    path: ["email"],
  });

export type UserLookupQuery = z.output<typeof UserLookupQuery>;
