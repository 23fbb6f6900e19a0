/**
 * Request schemas of the privacy function. Objects are strict: unknown fields and query
 * parameters are refused. The database decides everything about who may do what; these only
 * give malformed input a clear 400 before it reaches it.
 */
import { z } from "zod";
import { Cursor, NoQuery, UuidIdParam } from "../_shared/schemas.ts";
import { CLERK_USER_ID } from "../_shared/auth.ts";

export const REQUEST_KINDS = ["export", "erasure"] as const;
export const REQUEST_STATUSES = [
  "received",
  "scheduled",
  "in_progress",
  "completed",
  "failed",
  "cancelled",
] as const;

const clerkUserId = z.string().regex(CLERK_USER_ID, "must be a Clerk user id (user_...)");
/** A reason or ticket reference: short, single line. */
const shortText = z.string().trim().min(1).max(500).regex(/^[^\r\n]*$/, "must be a single line");

/** 7 days is the default grace period; the database refuses anything longer than its setting. */
const MAX_GRACE_HOURS = 24 * 365;

export const CreateRequestBody = z
  .strictObject({
    kind: z.enum(REQUEST_KINDS),
    /** Staff only: the person the request is about. Default: the caller. */
    subject_user_id: clerkUserId.optional(),
    /** Reason or ticket reference; required when staff request for someone else. */
    reason: shortText.optional(),
    /** Staff only, erasure only: a grace period shorter than the default, in hours (0 = none). */
    grace_hours: z.number().int().min(0).max(MAX_GRACE_HOURS).optional(),
    /** Required with grace_hours when it shortens the default. */
    grace_reason: shortText.optional(),
  })
  .refine((body) => body.grace_reason === undefined || body.grace_hours !== undefined, {
    message: "grace_reason needs grace_hours",
    path: ["grace_reason"],
  })
  .refine((body) => body.kind === "erasure" || body.grace_hours === undefined, {
    message: "only an erasure has a grace period",
    path: ["grace_hours"],
  });

export type CreateRequestBody = z.output<typeof CreateRequestBody>;

export const RequestIdParam = UuidIdParam;

/** Staff: shorten an existing erasure's grace period (the database refuses a longer one). */
export const ShortenGraceBody = z.strictObject({
  grace_hours: z.number().int().min(0).max(MAX_GRACE_HOURS),
  grace_reason: shortText,
});

export const ListRequestsQuery = z.strictObject({
  subject_user_id: clerkUserId.optional(),
  kind: z.enum(REQUEST_KINDS).optional(),
  status: z.enum(REQUEST_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: Cursor.optional(),
});

export type ListRequestsQuery = z.output<typeof ListRequestsQuery>;

/** POST /erasures/run: optionally fewer erasures than the batch setting. */
export const RunErasuresBody = z.strictObject({
  max_requests: z.number().int().min(1).max(100).optional(),
});

export { NoQuery as EmptyQuery };
