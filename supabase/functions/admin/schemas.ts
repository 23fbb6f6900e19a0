/**
 * Request schemas of the admin function. Objects are strict: unknown query parameters are refused,
 * so a misspelt filter is a 400 rather than a silently unfiltered audit search.
 */
import { z } from "zod";
import { Cursor } from "../_shared/schemas.ts";
import { isRealInstant } from "../_shared/pagination.ts";

export const ACTOR_KINDS = ["user", "staff", "service", "database"] as const;

/** An action (`dsar.erasure.approved`) or, ending in `.*`, an action prefix (`dsar.*`). */
const ACTION_FILTER = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$/;
const IDENTIFIER = /^[a-z_][a-z0-9_$]{0,62}$/;

/**
 * A real instant (zod's format check alone lets year 0000 through, which Postgres refuses with
 * 22008); passed to SQL as text and cast there (see _shared/pagination.ts).
 */
const instant = z.iso
  .datetime({ offset: true, message: "must be an ISO 8601 date-time with a time zone" })
  .refine(isRealInstant, "must be a real instant between the years 0001 and 9999");

export const AuditListQuery = z
  .strictObject({
    actor: z.string().min(1).max(200).optional(),
    actor_kind: z.enum(ACTOR_KINDS).optional(),
    action: z.string().max(100).regex(
      ACTION_FILTER,
      "an action like user.role.changed, or a prefix like dsar.*",
    )
      .optional(),
    target_schema: z.string().regex(IDENTIFIER, "a lowercase identifier").optional(),
    target_table: z.string().regex(IDENTIFIER, "a lowercase identifier").optional(),
    target_id: z.string().min(1).max(500).optional(),
    request_id: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "a request id").optional(),
    /** Inclusive lower bound of occurred_at. */
    from: instant.optional(),
    /** Exclusive upper bound of occurred_at. */
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: Cursor.optional(),
  })
  .refine((query) => query.target_id === undefined || query.target_table !== undefined, {
    message: "target_id needs target_table",
    path: ["target_id"],
  })
  .refine((query) => !query.from || !query.to || Date.parse(query.from) < Date.parse(query.to), {
    message: "from must be before to",
    path: ["to"],
  });

export type AuditListQuery = z.output<typeof AuditListQuery>;

/**
 * Verification scope: everything (default), or only what was sealed after a checkpoint, given by
 * its entry id and, to trust nothing stored, the hash kept outside the database.
 */
export const VerifyQuery = z
  .strictObject({
    after_id: z.string().regex(/^[0-9]{1,18}$/, "an entry id").optional(),
    hash: z.string().regex(/^[0-9a-fA-F]{64}$/, "a sha256 hash in hex").optional(),
  })
  .refine((query) => query.hash === undefined || query.after_id !== undefined, {
    message: "hash needs after_id",
    path: ["hash"],
  });

// Response shapes (documented in docs/AUDIT.md).
export const AuditEntry = z.object({
  id: z.string(),
  occurred_at: z.string(),
  actor: z.string(),
  actor_kind: z.enum(ACTOR_KINDS),
  db_role: z.string(),
  action: z.string(),
  target_schema: z.string().nullable(),
  target_table: z.string().nullable(),
  target_id: z.string().nullable(),
  request_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  /** sha256 chain hash (hex) once sealed, else null. */
  hash: z.string().nullable(),
});

export const VerifyResult = z.object({
  ok: z.boolean(),
  entries_checked: z.number(),
  first_bad_id: z.string().nullable(),
  problem: z.string().nullable(),
  head: z.object({ id: z.string(), hash: z.string() }),
  sealed_through: z.string(),
  unsealed: z.number(),
  duration_ms: z.number(),
});
