/**
 * The alert notification dispatcher (POST /admin/alerts/dispatch): claims due notifications from
 * ops.notification_outbox under a lease, posts each to ALERT_WEBHOOK_URL with its idempotency key
 * (header `Idempotency-Key` and, in the generic body, `idempotency_key`), and records the outcome
 * for the attempt that claimed it. Delivery is at least once: a dispatcher that dies after a send
 * but before recording it leaves the lease to expire and the next claim sends again with the same
 * key, which the receiver uses to drop the repeat (Slack incoming webhooks do not; see
 * docs/OPERATIONS.md). Nothing is lost: a failure (non-2xx, timeout, network) puts the row back
 * with exponential backoff (private.finish_notification), up to notification_max_attempts.
 * Response bodies are never read or logged; only the status is kept. The claim and each outcome
 * are transactions of their own, as the dispatcher (service_role): the lease commits before
 * anything is sent, and one send's record never waits for another's.
 */
import { claimNotifications, DISPATCHER, finishNotification } from "./repositories/operations.ts";
import type { ClaimedNotification } from "./repositories/operations.ts";
import { queryAsServiceRole } from "../_shared/db.ts";

export type NotificationFormat = "slack" | "json";

/** Notifications one dispatch claims (sent concurrently, so one call takes about one send timeout). */
export const DISPATCH_BATCH = 10;

export interface DispatchOptions {
  url: string | undefined;
  format: NotificationFormat;
  timeoutMs: number;
}

export interface DispatchResult {
  configured: boolean;
  claimed: number;
  sent: number;
  retrying: number;
  dead: number;
  /** Outcomes not recorded because the attempt had lost its lease (another claim took the row). */
  superseded: number;
}

/** The body posted for one notification. */
export function notificationBody(format: NotificationFormat, notification: ClaimedNotification) {
  const p = notification.payload as Record<string, unknown>;
  if (format === "slack") {
    const state = p.event === "opened" ? `FIRING ${p.severity}` : "RESOLVED";
    return {
      text: `[${state}] ${p.rule} (${p.key}): ${p.description} Value ${p.value}, threshold ${p.threshold}. ` +
        `Runbook: docs/RUNBOOK.md#alert-${p.runbook}`,
    };
  }
  const { event, ...alert } = p;
  return { idempotency_key: notification.idempotency_key, event, alert };
}

async function send(options: DispatchOptions, notification: ClaimedNotification) {
  try {
    const response = await fetch(options.url!, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "idempotency-key": notification.idempotency_key,
        "user-agent": "workspace-backend-alerts",
      },
      body: JSON.stringify(notificationBody(options.format, notification)),
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await response.body?.cancel();
    const delivered = response.status >= 200 && response.status < 300;
    return { delivered, httpStatus: response.status, error: delivered ? null : `http ${response.status}` };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return { delivered: false, httpStatus: null, error: timedOut ? "timeout" : "network error" };
  }
}

/** One dispatch round. Without a URL nothing is claimed: notifications wait in the outbox. */
export async function dispatchNotifications(options: DispatchOptions): Promise<DispatchResult> {
  const result: DispatchResult = {
    configured: options.url !== undefined,
    claimed: 0,
    sent: 0,
    retrying: 0,
    dead: 0,
    superseded: 0,
  };
  if (!options.url) return result;
  const claimed = await queryAsServiceRole(DISPATCHER, (tx) => claimNotifications(tx, DISPATCH_BATCH));
  result.claimed = claimed.length;
  await Promise.all(claimed.map(async (notification) => {
    const outcome = await send(options, notification);
    const outcomeOf = { id: notification.id, attempt: notification.attempt, ...outcome };
    const [row] = await queryAsServiceRole(DISPATCHER, (tx) => finishNotification(tx, outcomeOf));
    const status = row?.status ?? null;
    if (status === "sent") result.sent++;
    else if (status === "pending") result.retrying++;
    else if (status === "dead") result.dead++;
    else result.superseded++;
  }));
  return result;
}
