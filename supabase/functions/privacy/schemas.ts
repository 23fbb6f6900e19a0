/**
 * Request and response schemas of the privacy function, the single source for validation (routes)
 * and for the OpenAPI document (generated from the routes by _shared/openapi.ts). Request objects
 * are strict: unknown fields and query parameters are refused. The database decides everything
 * about who may do what; these only give malformed input a clear 400 before it reaches it.
 */
import { z } from "zod";
import { Cursor, JsonObject, list, NoQuery, page, UuidIdParam } from "../_shared/schemas.ts";
import type { Holds, SameFields } from "../_shared/schemas.ts";
import { CLERK_USER_ID } from "../_shared/auth.ts";
import type { DataMapTableRow } from "./repositories/data_map.ts";
import type { present } from "./routes/requests.ts";
import type { ErasureRun } from "./routes/erasures.ts";

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

// Response shapes (documented in OpenAPI; rows come from the database in this shape).
export const DsarRequest = z.object({
  id: z.uuid(),
  kind: z.enum(REQUEST_KINDS),
  subject_user_id: z.string(),
  requested_as: z.enum(["subject", "support", "admin", "clerk"]),
  requester_user_id: z.string().nullable(),
  reason: z.string().nullable(),
  status: z.enum(REQUEST_STATUSES),
  received_at: z.string(),
  due_at: z.string(),
  approval_required: z.boolean(),
  approved_by: z.string().nullable(),
  approved_at: z.string().nullable(),
  grace_period_seconds: z.number().int().nullable(),
  grace_reason: z.string().nullable(),
  scheduled_for: z.string().nullable(),
  cancelled_by: z.string().nullable(),
  cancelled_at: z.string().nullable(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  attempts: z.number().int(),
  row_counts: JsonObject.nullable(),
  proof: JsonObject.nullable(),
  error: z.string().nullable(),
  overdue_at: z.string().nullable(),
  clerk_delete_required: z.boolean(),
  clerk_deleted_at: z.string().nullable(),
  updated_at: z.string(),
  export_url: z.string().nullable().describe("where to download a completed export, else null"),
});

export const DsarRequestPage = page(DsarRequest);

export const DataMapTable = z.object({
  table: z.string().describe("schema.table"),
  subject_column: z.string(),
  erasure: z.enum(["delete", "anonymize", "cascade", "retain"]),
  cascade_from: z.string().nullable(),
  legal_basis: z.string().nullable(),
  export: z.boolean(),
  description: z.string(),
  columns: z.array(z.object({
    column: z.string(),
    classification: z.enum(["identifier", "contact", "profile", "content", "usage", "technical"]),
    personal: z.boolean(),
    anonymize: z.boolean(),
  })).nullable(),
});

export const DataMap = list(DataMapTable);

export const ErasureRunResult = z.object({
  erasures: JsonObject.describe("privacy.run_due_erasures(): what the run did"),
  clerk: z.object({
    configured: z.boolean(),
    deleted: z.number().int(),
    failed: z.number().int(),
    pending: z.number().int(),
  }),
});

/**
 * Compile-time check (deno check): each response schema names exactly the fields its route
 * answers with (the repository's row, or the route's presentation of it), so a column added to a
 * select list and not to the documented shape, or the reverse, fails `npm run check`.
 */
export type ResponseShapesMatchRows = [
  Holds<SameFields<z.output<typeof DsarRequest>, ReturnType<typeof present>>>,
  Holds<SameFields<z.output<typeof DataMapTable>, DataMapTableRow>>,
  Holds<SameFields<z.output<typeof ErasureRunResult>, ErasureRun>>,
];
