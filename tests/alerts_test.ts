/**
 * Alert rules, alerts and notifications end to end, against a loopback HTTP sink (docs/OPERATIONS.md):
 * - done-when: a DSAR two days from its due date opens a dsar_due_soon alert (audited), which is
 *   deduplicated while it lasts; its notification reaches the sink, is retried after the sink's
 *   500 with the same idempotency key (after the backoff, not before), is delivered once, and the
 *   alert resolves (audited, notified once) when the request completes;
 * - the dispatcher's auth: the pg_net secret or a staff session; 401 without, 401 when wrong;
 * - the Slack-compatible and the generic body.
 * The admin app runs in this process (tests/_support/apps.ts) with ALERT_WEBHOOK_URL pointing at
 * the sink; evaluate-alerts is called directly (pg_cron may run it at the same moment: a run that
 * finds the job lock taken returns `skipped`, and the test calls again).
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { adminSql, createUser } from "./_support/db.ts";
import { bearer } from "./_support/auth.ts";
import { functionApp } from "./_support/apps.ts";
import { notificationBody } from "../supabase/functions/admin/notifications.ts";

function dbTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

// --- the sink ---------------------------------------------------------------------------------
interface Received {
  idempotencyKey: string | null;
  body: Record<string, unknown>;
  answered: number;
}
const received: Received[] = [];
/** Idempotency keys the sink refuses once with a 500 (then accepts). */
const failOnce = new Set<string>();
const sink = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
  const idempotencyKey = request.headers.get("idempotency-key");
  const body = await request.json();
  const answered = idempotencyKey && failOnce.delete(idempotencyKey) ? 500 : 200;
  received.push({ idempotencyKey, body, answered });
  return new Response(answered === 200 ? "ok" : "boom", { status: answered });
});
Deno.test.afterAll(async () => {
  await sink.shutdown();
});

const DISPATCH_SECRET = `dispatch-${crypto.randomUUID()}-${crypto.randomUUID()}`;
Deno.env.set("ALERT_WEBHOOK_URL", `http://127.0.0.1:${sink.addr.port}/hook`);
Deno.env.set("ALERT_WEBHOOK_FORMAT", "json");
Deno.env.set("ALERT_DISPATCH_SECRET", DISPATCH_SECRET);
const app = await functionApp("admin");

async function dispatch(headers: Record<string, string> = { "x-alerts-dispatch-secret": DISPATCH_SECRET }) {
  const response = await app.fetch(
    new Request("http://local/admin/alerts/dispatch", { method: "POST", headers }),
  );
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/**
 * Dispatch rounds until one claims nothing: other test files open alerts of their own (rejected
 * webhooks, due requests), and one round claims at most DISPATCH_BATCH, so this request's
 * notification may wait behind them. Bounded: the outbox of a test run is small.
 */
async function drain() {
  for (let round = 0; round < 100; round++) {
    const { status, json } = await dispatch();
    assertEquals(status, 200);
    if (json.claimed === 0) return;
  }
  throw new Error("the outbox did not drain in 100 dispatch rounds");
}

/** One evaluation that ran (pg_cron's own run of the job may hold its lock for a moment). */
async function evaluate(): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const [{ result }] = await adminSql`select ops.evaluate_alerts() as result`;
    if (result.status !== "skipped") return result;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("evaluate-alerts stayed locked");
}

async function alertsFor(key: string) {
  return await adminSql`
    select id::text as id, rule, status, severity, resolved_at from ops.alerts where key = ${key} order by id`;
}

async function outboxFor(alertId: string) {
  return await adminSql`
    select id::text as id, event, status, attempts, idempotency_key, next_attempt_at > now() as backing_off, last_status
      from ops.notification_outbox where alert_id = ${alertId}::bigint order by id`;
}

const forKey = (key: string) => received.filter((r) => r.idempotencyKey === key);

// =============================================================================================

Deno.test("notification bodies: Slack-compatible text, and the generic JSON with the idempotency key", () => {
  const notification = {
    id: "1",
    attempt: 1,
    idempotency_key: "alert-7-opened",
    payload: {
      alert_id: 7,
      event: "opened",
      rule: "dsar_due_soon",
      key: "k",
      severity: "warning",
      value: 1,
      threshold: 1,
      description: "A request is due soon.",
      runbook: "dsar-due-soon",
    },
  };
  const slack = notificationBody("slack", notification) as { text: string };
  assertEquals(Object.keys(slack), ["text"]);
  assertMatch(slack.text, /^\[FIRING warning\] dsar_due_soon \(k\): A request is due soon\./);
  assertMatch(slack.text, /docs\/RUNBOOK\.md#alert-dsar-due-soon$/);
  const generic = notificationBody("json", notification) as Record<string, unknown>;
  assertEquals(generic.idempotency_key, "alert-7-opened");
  assertEquals(generic.event, "opened");
  assertEquals((generic.alert as Record<string, unknown>).rule, "dsar_due_soon");
  const resolved = notificationBody("slack", {
    ...notification,
    payload: { ...notification.payload, event: "resolved" },
  }) as { text: string };
  assertMatch(resolved.text, /^\[RESOLVED\] /);
});

dbTest(
  "dispatch: 401 without the secret or a session, 401 with a wrong secret, 403 for a plain user",
  async () => {
    assertEquals((await dispatch({})).status, 401);
    assertEquals((await dispatch({ "x-alerts-dispatch-secret": `${DISPATCH_SECRET}x` })).status, 401);
    assertEquals((await dispatch(await bearer(await createUser("user")))).status, 403);
    const staff = await dispatch(await bearer(await createUser("support")));
    assertEquals(staff.status, 200);
    assertEquals(staff.json.configured, true);
  },
);

dbTest(
  "a DSAR two days from its due date: alert fires once, retried after a 500, resolves once",
  async () => {
    const subject = await createUser("user");
    // due_at = received_at + 1 month: received a month minus two days ago.
    const [{ id: requestId }] = await adminSql`
    insert into privacy.requests (kind, subject_user_id, requested_as, requester_user_id, status, received_at)
    values ('export', ${subject}, 'subject', ${subject}, 'received',
            ((now() at time zone 'UTC') - interval '1 month' + interval '2 days') at time zone 'UTC')
    returning id::text as id`;

    // Opens, audited, one notification enqueued.
    await evaluate();
    const [opened, ...others] = await alertsFor(requestId);
    assertEquals(others.length, 0);
    assertEquals([opened.rule, opened.status, opened.severity], ["dsar_due_soon", "open", "warning"]);
    const [audit] = await adminSql`
    select action, details from audit.log where action = 'alert.opened' and target_id = ${opened.id}`;
    assertEquals(audit.details.rule, "dsar_due_soon");
    assertEquals(audit.details.key, requestId);

    // Deduplicated while it lasts: still one alert, one notification.
    await evaluate();
    assertEquals((await alertsFor(requestId)).length, 1);
    const [queued] = await outboxFor(opened.id);
    assertEquals([queued.event, queued.status, queued.attempts], ["opened", "pending", 0]);
    const openedKey = queued.idempotency_key as string;
    assertEquals(openedKey, `alert-${opened.id}-opened`);

    // The sink answers 500 once: the notification goes back with a backoff.
    failOnce.add(openedKey);
    await drain();
    assertEquals(forKey(openedKey).map((r) => r.answered), [500]);
    let [row] = await outboxFor(opened.id);
    assertEquals([row.status, row.attempts, row.backing_off, row.last_status], ["pending", 1, true, 500]);

    // Not before the backoff has passed.
    await drain();
    assertEquals(forKey(openedKey).length, 1);

    // Once it has (moved here instead of waiting for it): sent again with the same key, delivered.
    await adminSql`update ops.notification_outbox set next_attempt_at = now() where id = ${row.id}::bigint`;
    await drain();
    assertEquals(forKey(openedKey).map((r) => r.answered), [500, 200]);
    [row] = await outboxFor(opened.id);
    assertEquals([row.status, row.attempts, row.last_status], ["sent", 2, 200]);
    const delivered = forKey(openedKey)[1].body as {
      idempotency_key: string;
      event: string;
      alert: Record<string, unknown>;
    };
    assertEquals(delivered.idempotency_key, openedKey);
    assertEquals(delivered.event, "opened");
    assertEquals([delivered.alert.rule, delivered.alert.key], ["dsar_due_soon", requestId]);

    // Delivered means done: no further send.
    await drain();
    assertEquals(forKey(openedKey).filter((r) => r.answered === 200).length, 1);

    // The request completes: the alert resolves, audited, notified once.
    await adminSql`
    update privacy.requests set status = 'completed', completed_at = now() where id = ${requestId}::uuid`;
    await evaluate();
    const [closed] = await alertsFor(requestId);
    assertEquals(closed.status, "resolved");
    const resolvedAudit = await adminSql`
    select 1 from audit.log where action = 'alert.resolved' and target_id = ${opened.id}`;
    assertEquals(resolvedAudit.length, 1);
    await evaluate();
    assertEquals((await alertsFor(requestId)).length, 1, "no new alert after it resolved");

    const resolvedKey = `alert-${opened.id}-resolved`;
    await drain();
    await drain();
    assertEquals(forKey(resolvedKey).map((r) => r.answered), [200]);
    assertEquals((forKey(resolvedKey)[0].body as { event: string }).event, "resolved");
    const rows = await outboxFor(opened.id);
    assertEquals(rows.map((r) => [r.event, r.status]), [["opened", "sent"], ["resolved", "sent"]]);
    // Nothing personal in what left: the subject's id is not in any body.
    assert(!JSON.stringify(received).includes(subject));
  },
);
