/**
 * SQL of the operations routes (metrics, alerts, notification dispatch). Each function builds its
 * statement on the transaction it is given; the route (or the dispatcher) chooses who runs it: a
 * staff caller as itself (role authenticated; ops.metrics() and ops.list_alerts() check staff in the
 * database), automation (scrape token, dispatcher secret) as service_role under its own name
 * (`queryAs`, ../machine_auth.ts).
 */
import type { Tx } from "../../_shared/db.ts";

export interface MetricSample {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample of GET /admin/metrics, in one call of ops.metrics(). */
export function readMetrics(tx: Tx) {
  return tx<MetricSample[]>`select metric, labels, value from ops.metrics()`;
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
export function listAlerts(tx: Tx, maxResolved: number) {
  return tx<AlertRow[]>`
    select id::text as id, rule, key, severity, status, value::text as value, threshold::text as threshold,
           opened_at, last_seen_at, resolved_at, runbook, notifications
      from ops.list_alerts(${maxResolved})
  `;
}

export interface ClaimedNotification {
  id: string;
  idempotency_key: string;
  payload: Record<string, unknown>;
  attempt: number;
}

/** The automation name the dispatcher's writes carry (audit actor). */
export const DISPATCHER = "alerts-dispatcher";

/** Claims due notifications under a lease; commit it before anything is sent. */
export function claimNotifications(tx: Tx, max: number) {
  return tx<ClaimedNotification[]>`
    select id::text as id, idempotency_key, payload, attempt from private.claim_notifications(${max})
  `;
}

export interface SendOutcome {
  id: string;
  attempt: number;
  delivered: boolean;
  httpStatus: number | null;
  error: string | null;
}

/**
 * Records one send's outcome for the attempt that claimed it. One row: the row's new status, or
 * null when that attempt no longer holds the row (its lease expired and another claim took it).
 */
export function finishNotification(tx: Tx, outcome: SendOutcome) {
  return tx<{ status: string | null }[]>`
    select private.finish_notification(${outcome.id}::bigint, ${outcome.attempt}, ${outcome.delivered},
                                       ${outcome.httpStatus}, ${outcome.error}) as status
  `;
}
