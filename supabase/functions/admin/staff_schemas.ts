/**
 * Request and response schemas of the staff management and user lookup routes (requests strict:
 * unknown parameters are a 400, so a misspelt `by` never silently searches something else).
 */
import { z } from "zod";
import { CLERK_USER_ID } from "../_shared/auth.ts";
import { list } from "../_shared/schemas.ts";
import type { Holds, SameFields } from "../_shared/schemas.ts";
import type { RoleChangeRow, StaffMemberRow } from "./repositories/staff_members.ts";
import type { FoundUserRow } from "./repositories/user_lookup.ts";

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

// Response shapes (documented in OpenAPI).

/** The profile columns of public.users both answers show. */
const profile = {
  email: z.string().nullable(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  display_name: z.string().nullable(),
};

export const StaffMember = z.object({
  user_id: z.string(),
  role: z.enum(["support", "admin"]),
  ...profile,
  updated_at: z.string(),
});

export const StaffList = list(StaffMember);

export const RoleChange = z.object({
  user_id: z.string(),
  role: z.enum(["user", "support", "admin"]),
  previous_role: z.string().nullable(),
});

export const FoundUser = z.object({
  user_id: z.string(),
  ...profile,
  role: z.string().nullable().describe("null when only a tombstone is left"),
  created_at: z.string().nullable(),
  last_active_at: z.string().nullable(),
  projects: z.number().int(),
  tabs: z.number().int(),
  history: z.number().int(),
  open_requests: z.array(z.object({
    id: z.string(),
    kind: z.string(),
    status: z.string(),
    received_at: z.string(),
    due_at: z.string(),
  })),
  tombstoned_at: z.string().nullable(),
  username: z.string().nullable(),
  email_verified: z.boolean().nullable(),
  banned: z.boolean().nullable(),
  locked: z.boolean().nullable(),
  locked_until: z.string().nullable(),
});

export const FoundUsers = list(FoundUser);

/** Compile-time check (deno check), as in schemas.ts: each response schema names exactly its row's columns. */
export type ResponseShapesMatchRows = [
  Holds<SameFields<z.output<typeof StaffMember>, StaffMemberRow>>,
  Holds<SameFields<z.output<typeof RoleChange>, RoleChangeRow>>,
  Holds<SameFields<z.output<typeof FoundUser>, FoundUserRow>>,
];
