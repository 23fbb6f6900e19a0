/**
 * SQL of the operations routes (metrics, alerts, notification dispatch). A staff caller runs as
 * itself (role authenticated; ops.metrics() and ops.list_alerts() check staff in the database);
 * automation (scrape token, dispatcher secret) runs as service_role under its own name.
 */
import { queryAsServiceRole, queryAsUser } from "../../_shared/db.ts";
import type { RequestContext, Row, Tx } from "../../_shared/db.ts";
import type postgres from "postgres";
import type { Caller } from "../machine_auth.ts";

function asCaller<T extends readonly Row[]>(
  caller: Caller,
  statement: (tx: Tx) => postgres.PendingQuery<T>,
  context?: RequestContext,
): Promise<T> {
  return caller.kind === "staff"
    ? queryAsUser(caller.claims, statement, context)
    : queryAsServiceRole(caller.name, statement, context);
}

export interface MetricSample {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample of GET /admin/metrics, in one call of ops.metrics(). */
export function readMetrics(caller: Caller, context?: RequestContext) {
  return asCaller(
    caller,
    (tx) => tx<MetricSample[]>`select metric, labels, value from ops.metrics()`,
    context,
  );
}

export interface AlertRow {
  id: string;
  rule: string;
  key: string;
  severity: string;
  status: string;
  value: string;
  threshold: string;
  opened_at: string;
  last_seen_at: string;
  resolved_at: string | null;
  runbook: string;
  notifications: unknown[];
}

/** Open alerts and the latest resolved ones (staff). */
export function listAlerts(caller: Caller, maxResolved: number, context?: RequestContext) {
  return asCaller(
    caller,
    (tx) =>
      tx<AlertRow[]>`
        select id::text as id, rule, key, severity, status, value::text as value, threshold::text as threshold,
               opened_at, last_seen_at, resolved_at, runbook, notifications
          from ops.list_alerts(${maxResolved})
      `,
    context,
  );
}

export interface ClaimedNotification {
  id: string;
  idempotency_key: string;
  payload: Record<string, unknown>;
  attempt: number;
}

/** The automation name the dispatcher's writes carry (audit actor). */
export const DISPATCHER = "alerts-dispatcher";

/** Claims due notifications under a lease (committed before anything is sent). */
export function claimNotifications(max: number, context?: RequestContext) {
  return queryAsServiceRole(
    DISPATCHER,
    (tx) =>
      tx<ClaimedNotification[]>`
        select id::text as id, idempotency_key, payload, attempt from private.claim_notifications(${max})
      `,
    context,
  );
}

/**
 * Records one send's outcome for the attempt that claimed it. Returns the row's new status, or
 * null when that attempt no longer holds the row (its lease expired and another claim took it).
 */
export async function finishNotification(
  outcome: {
    id: string;
    attempt: number;
    delivered: boolean;
    httpStatus: number | null;
    error: string | null;
  },
  context?: RequestContext,
): Promise<string | null> {
  const [row] = await queryAsServiceRole(
    DISPATCHER,
    (tx) =>
      tx<{ status: string | null }[]>`
        select private.finish_notification(${outcome.id}::bigint, ${outcome.attempt}, ${outcome.delivered},
                                           ${outcome.httpStatus}, ${outcome.error}) as status
      `,
    context,
  );
  return row?.status ?? null;
}
