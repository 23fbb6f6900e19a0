/**
 * GET /admin/metrics and the signals behind it (docs/OPERATIONS.md):
 * - the exposition format: HELP/TYPE per family, escaping, names (prefix, `_total` counters,
 *   base units), every metric ops.metrics() returns has a family;
 * - done-when: a signed webhook with a bad signature moves webhook_deliveries_total
 *   {outcome="rejected_signature"} as /admin/metrics shows it (over the gateway, staff session);
 *   a malformed signed payload moves rejected_payload; an applied one moves applied;
 * - the request counters: the in-memory aggregator flushes 401s into http_requests_total;
 * - auth: 401 without a session, 403 for a plain user, a configured scrape token works (compared
 *   in constant time), a wrong one is 401; without the token configured only staff sessions work;
 * - logs: the one-line request log and the webhook log carry no personal data.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { adminSql, createUser, randomUserId } from "./_support/db.ts";
import { bearer } from "./_support/auth.ts";
import { call } from "./_support/http.ts";
import { FUNCTIONS_URL } from "./_support/env.ts";
import { functionApp } from "./_support/apps.ts";
import { postDelivery, signDelivery, userEvent, webhookSecret } from "../tools/send_webhooks.ts";
import {
  escapeLabelValue,
  METRIC_FAMILIES,
  METRIC_PREFIX,
  renderMetrics,
} from "../supabase/functions/admin/routes/metrics.ts";
import {
  countWebhookOutcome,
  FLUSH_INTERVAL_MS,
  flushSignals,
  pendingSignals,
  statusClass,
} from "../supabase/functions/_shared/signals.ts";
import { secretMatches } from "../supabase/functions/admin/machine_auth.ts";

const SCRAPE_TOKEN = `scrape-${crypto.randomUUID()}-${crypto.randomUUID()}`;
// The in-process admin app (below) reads it at import; the shared gateway never has it.
Deno.env.set("METRICS_SCRAPE_TOKEN", SCRAPE_TOKEN);

function dbTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/** The value of one sample in an exposition text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const rendered = Object.keys(labels).sort().map((k) => `${k}="${escapeLabelValue(labels[k])}"`).join(",");
  const prefix = `${METRIC_PREFIX}${name}${rendered ? `{${rendered}}` : ""} `;
  const line = text.split("\n").find((l) => l.startsWith(prefix));
  return line ? Number(line.slice(prefix.length)) : 0;
}

async function scrape(headers: Record<string, string>) {
  const response = await call("admin", "/metrics", { headers });
  return response;
}

// =============================================================================================
// Format
// =============================================================================================

Deno.test("renderMetrics: HELP and TYPE per family, sorted samples, escaped labels and help", () => {
  const text = renderMetrics(
    [
      { metric: "b_total", labels: { x: 'a"b\\c\nd' }, value: 2 },
      { metric: "b_total", labels: { x: "a" }, value: 1 },
      { metric: "unlisted", labels: {}, value: 9 },
      { metric: "g", labels: {}, value: NaN },
    ],
    [
      { name: "b_total", type: "counter", help: "line one\nback\\slash" },
      { name: "g", type: "gauge", help: "a gauge" },
    ],
  );
  assertEquals(
    text,
    [
      `# HELP ${METRIC_PREFIX}b_total line one\\nback\\\\slash`,
      `# TYPE ${METRIC_PREFIX}b_total counter`,
      `${METRIC_PREFIX}b_total{x="a"} 1`,
      `${METRIC_PREFIX}b_total{x="a\\"b\\\\c\\nd"} 2`,
      `# HELP ${METRIC_PREFIX}g a gauge`,
      `# TYPE ${METRIC_PREFIX}g gauge`,
      `${METRIC_PREFIX}g NaN`,
      "",
    ].join("\n"),
  );
});

Deno.test("metric families follow the Prometheus naming conventions", () => {
  const names = new Set<string>();
  for (const family of METRIC_FAMILIES) {
    assertMatch(`${METRIC_PREFIX}${family.name}`, /^[a-z_][a-z0-9_]*$/);
    assert(!names.has(family.name), `${family.name} listed twice`);
    names.add(family.name);
    // Counters end in _total; nothing else does.
    assertEquals(family.type === "counter", family.name.endsWith("_total"), family.name);
    // Base units only: seconds, never milliseconds or minutes.
    assert(!/_(milliseconds|ms|minutes|hours)(_|$)/.test(family.name), family.name);
    assert(!family.help.includes("\n"));
  }
});

Deno.test("statusClass: disjoint classes with 401, 403 and 429 apart", () => {
  assertEquals([200, 204, 304, 400, 401, 403, 404, 409, 429, 500, 503].map(statusClass), [
    "2xx",
    "2xx",
    "3xx",
    "4xx",
    "401",
    "403",
    "4xx",
    "4xx",
    "429",
    "5xx",
    "5xx",
  ]);
});

Deno.test("secretMatches: equal only for the same secret; nothing matches an unset one", () => {
  assert(secretMatches("a".repeat(40), "a".repeat(40)));
  assert(!secretMatches("a".repeat(40), "a".repeat(41)));
  assert(!secretMatches("b".repeat(40), "a".repeat(40)));
  assert(!secretMatches(undefined, "a".repeat(40)));
  assert(!secretMatches("a".repeat(40), undefined));
});

dbTest("every metric ops.metrics() returns has a family (none is silently dropped)", async () => {
  const rows = await adminSql<{ metric: string }[]>`select distinct metric from ops.metrics()`;
  const listed = new Set(METRIC_FAMILIES.map((f) => f.name));
  assert(rows.length > 0);
  for (const { metric } of rows) assert(listed.has(metric), `${metric} has no entry in METRIC_FAMILIES`);
});

// =============================================================================================
// Done when: a bad signature moves a counter /admin/metrics shows
// =============================================================================================

dbTest(
  "a webhook with a bad signature moves webhook_deliveries_total{outcome=rejected_signature}",
  async () => {
    const staff = await bearer(await createUser("support"));
    const before = await scrape(staff);
    assertEquals(before.status, 200);
    assertStringIncludes(before.headers.get("content-type") ?? "", "text/plain; version=0.0.4");
    assertStringIncludes(before.text, `# TYPE ${METRIC_PREFIX}webhook_deliveries_total counter`);
    const rejected = sample(before.text, "webhook_deliveries_total", { outcome: "rejected_signature" });

    const secret = await webhookSecret();
    const delivery = signDelivery(secret, userEvent("user.created", randomUserId("mx")));
    const bad = await postDelivery(`${FUNCTIONS_URL}/clerk-webhooks`, {
      ...delivery,
      headers: { ...delivery.headers, "svix-signature": `v1,${btoa("x".repeat(32))}` },
    });
    assertEquals(bad.status, 401);

    // An unsigned request is counted in the gateway's memory and reaches the database with the
    // next flush (FLUSH_INTERVAL_MS), never with a write of its own: wait for that flush.
    const deadline = Date.now() + FLUSH_INTERVAL_MS * 3;
    let seen = rejected;
    while (seen === rejected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      seen = sample((await scrape(staff)).text, "webhook_deliveries_total", {
        outcome: "rejected_signature",
      });
    }
    assertEquals(seen, rejected + 1);
  },
);

dbTest("signed deliveries: applied and rejected_payload are counted with the delivery", async () => {
  const staff = await bearer(await createUser("support"));
  const before = (await scrape(staff)).text;
  const secret = await webhookSecret();
  const url = `${FUNCTIONS_URL}/clerk-webhooks`;
  assertEquals(
    (await postDelivery(url, signDelivery(secret, userEvent("user.created", randomUserId("ma"))))).status,
    200,
  );
  assertEquals(
    (await postDelivery(url, signDelivery(secret, { object: "event", type: "user.created" }))).status,
    400,
  );
  const after = (await scrape(staff)).text;
  for (const outcome of ["applied", "rejected_payload"]) {
    assert(
      sample(after, "webhook_deliveries_total", { outcome }) >=
        sample(before, "webhook_deliveries_total", { outcome }) + 1,
      outcome,
    );
  }
  // Nothing of the body is stored with a count: the table holds minute, outcome, shard, count.
  const columns = await adminSql`
    select column_name from information_schema.columns
     where table_schema = 'ops' and table_name = 'webhook_deliveries' order by column_name`;
  assertEquals(columns.map((c) => c.column_name), ["bucket", "deliveries", "outcome", "shard"]);
});

// =============================================================================================
// Auth, and the request counters (in-process app: the scrape token is configured there)
// =============================================================================================

dbTest(
  "auth: 401 without a session, 403 for a user, scrape token in constant time, 401 when wrong",
  async () => {
    assertEquals((await scrape({})).status, 401);
    assertEquals((await scrape(await bearer(await createUser("user")))).status, 403);
    // The gateway has no scrape token configured: a token is just a bad session there.
    assertEquals((await scrape({ authorization: `Bearer ${SCRAPE_TOKEN}` })).status, 401);

    const app = await functionApp("admin");
    const get = (headers: Record<string, string>) =>
      app.fetch(new Request("http://local/admin/metrics", { headers }));
    const ok = await get({ authorization: `Bearer ${SCRAPE_TOKEN}` });
    assertEquals(ok.status, 200);
    assertStringIncludes(await ok.text(), `# TYPE ${METRIC_PREFIX}http_requests_total counter`);
    const wrong = await get({ authorization: `Bearer ${SCRAPE_TOKEN.slice(0, -1)}x` });
    assertEquals(wrong.status, 401);
    await wrong.body?.cancel();

    // Both 401s above were counted in this process's aggregator; a flush writes them.
    assert(pendingSignals().requests > 0);
    const [{ before }] = await adminSql`
    select coalesce(sum(requests), 0)::int as before from ops.http_requests
     where function_name = 'admin' and status_class = '401'`;
    await flushSignals();
    assertEquals(pendingSignals().requests, 0);
    const [{ after }] = await adminSql`
    select coalesce(sum(requests), 0)::int as after from ops.http_requests
     where function_name = 'admin' and status_class = '401'`;
    assert(after >= before + 1, `401s flushed: ${before} -> ${after}`);
  },
);

dbTest(
  "a webhook outcome counted in memory (failed: the database refused) reaches the table on flush",
  async () => {
    const failed = async () => {
      const [{ n }] = await adminSql`
      select coalesce(sum(deliveries), 0)::int as n from ops.webhook_deliveries where outcome = 'failed'`;
      return n as number;
    };
    const before = await failed();
    countWebhookOutcome("failed");
    countWebhookOutcome("failed");
    assert(pendingSignals().outcomes > 0);
    await flushSignals();
    assertEquals(pendingSignals().outcomes, 0);
    assertEquals(await failed(), before + 2);
  },
);

// =============================================================================================
// Logs: no personal data in the request line or the webhook line
// =============================================================================================

dbTest(
  "logs: the per-request line and the webhook line carry no email, name, image, IP or token",
  async () => {
    const app = await functionApp("clerk-webhooks");
    const userId = randomUserId("lg");
    const email = `private-${crypto.randomUUID().slice(0, 8)}@example.invalid`;
    const delivery = signDelivery(
      await webhookSecret(),
      userEvent("user.created", userId, { email, firstName: "Zebulon", lastName: "Quarrington" }),
    );
    const lines: string[] = [];
    const original = { log: console.log, error: console.error };
    console.log = (...args: unknown[]) => lines.push(args.join(" "));
    console.error = (...args: unknown[]) => lines.push(args.join(" "));
    try {
      const response = await app.fetch(
        new Request("http://local/clerk-webhooks", {
          method: "POST",
          headers: delivery.headers,
          body: delivery.body,
        }),
      );
      assertEquals(response.status, 200);
      await response.body?.cancel();
    } finally {
      console.log = original.log;
      console.error = original.error;
    }
    const requestLine = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "request");
    assert(requestLine, "one request line");
    assertEquals(Object.keys(requestLine).sort(), [
      "actor",
      "duration_ms",
      "function",
      "level",
      "method",
      "msg",
      "request_id",
      "route",
      "status",
      "time",
    ]);
    const all = lines.join("\n");
    for (
      const secretish of [
        email,
        "Zebulon",
        "Quarrington",
        "img.clerk.com",
        "192.0.2.1",
        delivery.headers["svix-signature"],
      ]
    ) {
      assert(!all.includes(secretish), `the log must not contain ${secretish}`);
    }
  },
);
