/**
 * SQL of the erasure runner: due erasures (privacy.run_due_erasures, the same body as the
 * run-due-erasures cron job) and the Clerk deletion bookkeeping. Admins and automation only; the
 * database checks it (P0001 http:403). Statements on the route's transaction (_shared/caller.ts).
 */
import type { JsonObject, Tx } from "../../_shared/db.ts";

export function runDueErasures(tx: Tx, maxRequests?: number) {
  return tx<{ result: JsonObject }[]>`select privacy.run_due_erasures(${
    maxRequests ?? null
  }::integer) as result`;
}

export interface PendingClerkDeletion {
  request_id: string;
  subject_user_id: string;
}

export function pendingClerkDeletions(tx: Tx, limit: number) {
  return tx<PendingClerkDeletion[]>`
      select request_id, subject_user_id from privacy.pending_clerk_deletions(${limit}::integer)
    `;
}

export function recordClerkDeletion(tx: Tx, requestId: string, done: boolean, httpStatus: number) {
  return tx`select privacy.record_clerk_deletion(${requestId}::uuid, ${done}, ${httpStatus}::integer)`;
}
