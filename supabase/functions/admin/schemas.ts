/**
 * Request and response schemas of the admin function (the staff routes' are in staff_schemas.ts),
 * the single source for validation and for the OpenAPI document (generated from the routes by
 * _shared/openapi.ts). Request objects are strict: unknown query parameters are refused, so a
 * misspelt filter is a 400 rather than a silently unfiltered audit search.
 */
import { z } from "zod";
import { Cursor, JsonObject, list, page } from "../_shared/schemas.ts";
import type { Holds, SameFields } from "../_shared/schemas.ts";
import { isRealInstant } from "../_shared/pagination.ts";
import type { AuditEntryRow } from "./repositories/audit.ts";
import type { AlertRow } from "./repositories/operations.ts";
import type { presentJob } from "./routes/jobs.ts";
import type { DispatchResult } from "./notifications.ts";
import type { compareMigrations } from "../_shared/migrations.ts";

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

// Response shapes (documented in OpenAPI and docs/AUDIT.md).
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
  details: JsonObject,
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

export const AuditEntryPage = page(AuditEntry);

const JobRun = z.object({
  status: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  message: z.string().nullable(),
});

export const Job = z.object({
  name: z.string(),
  description: z.string().nullable(),
  managed: z.boolean().describe("declared in ops.jobs"),
  scheduled: z.boolean(),
  active: z.boolean(),
  schedule: z.string().nullable(),
  declared_schedule: z.string().nullable(),
  last_run: JobRun.nullable(),
  runs_24h: z.number().int(),
  failures_24h: z.number().int(),
  last_failure: z.object({ at: z.string().nullable(), message: z.string().nullable() }).nullable(),
  problems: z.array(z.string()).describe("what needs attention; empty when healthy"),
});

export const JobList = z.object({ healthy: z.boolean(), data: z.array(Job) });

const MigrationRef = z.object({ version: z.string(), name: z.string().nullable() });

export const MigrationComparison = z.object({
  up_to_date: z.boolean(),
  summary: z.object({
    shipped: z.number().int(),
    applied: z.number().int(),
    pending: z.number().int(),
    unknown: z.number().int(),
  }),
  latest_shipped: z.string().nullable(),
  latest_applied: z.string().nullable(),
  applied: z.array(MigrationRef.extend({
    recorded_name: z.string().optional().describe("the name the history recorded, when it differs"),
  })),
  pending: z.array(MigrationRef.extend({
    out_of_order: z.boolean().describe("older than an applied one: needs --include-all"),
  })),
  unknown: z.array(MigrationRef),
});

export const Alert = z.object({
  id: z.string(),
  rule: z.string(),
  key: z.string(),
  severity: z.string(),
  status: z.string(),
  value: z.number(),
  threshold: z.number(),
  opened_at: z.string(),
  last_seen_at: z.string(),
  resolved_at: z.string().nullable(),
  runbook: z.string(),
  notifications: z.array(JsonObject),
});

export const AlertList = list(Alert);

export const DispatchRound = z.object({
  configured: z.boolean(),
  claimed: z.number().int(),
  sent: z.number().int(),
  retrying: z.number().int(),
  dead: z.number().int(),
  superseded: z.number().int().describe("outcomes not recorded: the attempt had lost its lease"),
});

/**
 * Compile-time check (deno check): each response schema names exactly the fields its route
 * answers with (the repository's row, or the route's presentation of it), so a column added to a
 * select list and not to the documented shape, or the reverse, fails `npm run check`.
 */
export type ResponseShapesMatchRows = [
  Holds<SameFields<z.output<typeof AuditEntry>, AuditEntryRow>>,
  Holds<SameFields<z.output<typeof Job>, ReturnType<typeof presentJob>>>,
  Holds<SameFields<z.output<typeof MigrationComparison>, ReturnType<typeof compareMigrations>>>,
  Holds<SameFields<z.output<typeof Alert>, AlertRow>>,
  Holds<SameFields<z.output<typeof DispatchRound>, DispatchResult>>,
];
