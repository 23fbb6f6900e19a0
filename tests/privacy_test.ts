/**
 * Data-subject requests over real HTTP (gateway -> privacy function -> Postgres), with the Clerk
 * webhook and a local stand-in for Clerk's Backend API. Every test makes its own random users and
 * checks both the HTTP answers and what the database holds.
 */
import { assert, assertEquals, assertExists, assertMatch, assertNotEquals } from "@std/assert";
import { createClient } from "@supabase/supabase-js";
import { adminSql, createUser, randomUserId, waitUntilBlockedBy } from "./_support/db.ts";
import { bearer, tokenFor } from "./_support/auth.ts";
import { call } from "./_support/http.ts";
import type { CallOptions } from "./_support/http.ts";
import { FUNCTIONS_URL, GATEWAY_URL } from "./_support/env.ts";
import { startGateway } from "./_support/gateway.ts";
import {
  postDelivery,
  signDelivery,
  userDeletedEvent,
  userEvent,
  webhookSecret,
} from "../tools/send_webhooks.ts";
import { loadPrivacyConfig } from "../supabase/functions/privacy/config.ts";
import { createClerkBackend } from "../supabase/functions/privacy/clerk_backend.ts";

const privacy = (path: string, options: CallOptions = {}) => call("privacy", path, options);
const SECRET = await webhookSecret();

/** Tests that hold the shared admin connection or spawn processes: no per-test sanitizers. */
function dbTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

function deliver(event: unknown, url = `${FUNCTIONS_URL}/clerk-webhooks`) {
  return postDelivery(url, signDelivery(SECRET, event));
}

/** A user with projects, tabs (and so history) and a webhook delivery, like a real account. */
async function subjectWithData(role: "user" | "support" | "admin" = "user", projects = 2): Promise<string> {
  const id = await createUser(role, "dsar");
  await adminSql`update public.users set email = ${`${id.slice(-10).toLowerCase()}@example.invalid`},
                   first_name = 'Data', last_name = 'Subject' where id = ${id}`;
  await adminSql`insert into public.projects (user_id, name) select ${id}, 'P' || g from generate_series(1, ${projects}::int) g`;
  await adminSql`insert into public.workspace_tabs (project_id, user_id, position, title, kind)
                 select p.id, ${id}, 0, 'Tab', 'doc' from public.projects p where p.user_id = ${id}`;
  await adminSql`insert into private.clerk_webhook_inbox (svix_id, event_type, clerk_user_id, outcome)
                 values (${`msg_dsar_${id}`}, 'user.created', ${id}, 'applied')`;
  return id;
}

async function subjectCounts(id: string): Promise<Record<string, number>> {
  const [{ counts }] = await adminSql`select privacy.subject_counts(${id}) as counts`;
  return counts;
}

async function requestRow(id: string) {
  const [row] = await adminSql`select * from privacy.requests where id = ${id}`;
  return row;
}

async function requestCount(subject: string): Promise<number> {
  const [{ n }] =
    await adminSql`select count(*)::int as n from privacy.requests where subject_user_id = ${subject}`;
  return n;
}

async function createRequest(actor: string, body: Record<string, unknown>) {
  return await privacy("/requests", { method: "POST", headers: await bearer(actor), body });
}

/** An erasure an admin scheduled with no grace period, due at once. */
async function dueErasure(admin: string, subject: string): Promise<string> {
  const created = await createRequest(admin, {
    kind: "erasure",
    subject_user_id: subject,
    reason: "TICKET-1",
    grace_hours: 0,
    grace_reason: "test",
  });
  assertEquals(created.status, 201, created.text);
  assertEquals(created.json.status, "scheduled");
  return created.json.id;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** received + one calendar month in UTC, clamped to the month's last day (31 Jan -> 28/29 Feb). */
function plusOneMonthUtc(date: Date): Date {
  const year = date.getUTCFullYear() + (date.getUTCMonth() === 11 ? 1 : 0);
  const month = (date.getUTCMonth() + 1) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(Date.UTC(
    year,
    month,
    Math.min(date.getUTCDate(), lastDay),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    date.getUTCMilliseconds(),
  ));
}

// ---------------------------------------------------------------------------------------------
// A local stand-in for Clerk's Backend API, and a gateway configured to call it
// ---------------------------------------------------------------------------------------------

interface ClerkCall {
  method: string;
  path: string;
  authorization: string | null;
}

const CLERK_SECRET_KEY = `sk_test_${crypto.randomUUID().replaceAll("-", "")}`;
const RUNNER_SECRET = `runner-${crypto.randomUUID()}-${crypto.randomUUID()}`;

const clerkStandIn = {
  calls: [] as ClerkCall[],
  /** User ids Clerk answers 404 for (already deleted there). */
  gone: new Set<string>(),
  /** User ids Clerk answers 500 for. */
  failing: new Set<string>(),
  server: undefined as Deno.HttpServer | undefined,
  url: "",
  start() {
    this.server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
      const path = new URL(request.url).pathname;
      this.calls.push({ method: request.method, path, authorization: request.headers.get("authorization") });
      const match = /^\/v1\/users\/(user_[A-Za-z0-9]+)$/.exec(path);
      if (request.method !== "DELETE" || !match) return Response.json({ errors: [] }, { status: 405 });
      if (request.headers.get("authorization") !== `Bearer ${CLERK_SECRET_KEY}`) {
        return Response.json({ errors: [{ code: "authentication_invalid" }] }, { status: 401 });
      }
      if (this.failing.has(match[1])) return Response.json({ errors: [] }, { status: 500 });
      if (this.gone.has(match[1])) {
        return Response.json({ errors: [{ code: "resource_not_found" }] }, { status: 404 });
      }
      return Response.json({ id: match[1], object: "user", deleted: true });
    });
    this.url = `http://127.0.0.1:${(this.server.addr as Deno.NetAddr).port}`;
  },
  callsFor(userId: string) {
    return this.calls.filter((c) => c.path === `/v1/users/${userId}`);
  },
};

let clerkGateway: { url: string; stop: () => Promise<void> } | undefined;

/** A second gateway process whose privacy function has CLERK_SECRET_KEY, CLERK_API_URL, the runner secret. */
async function withClerkGateway(): Promise<string> {
  if (!clerkGateway) {
    clerkStandIn.start();
    clerkGateway = await startGateway({
      CLERK_SECRET_KEY,
      CLERK_API_URL: clerkStandIn.url,
      PRIVACY_RUNNER_SECRET: RUNNER_SECRET,
    });
  }
  return clerkGateway.url;
}

async function runErasures(url: string, headers: Record<string, string>, body?: unknown) {
  const response = await fetch(`${url}/privacy/erasures/run`, {
    method: "POST",
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

// ---------------------------------------------------------------------------------------------
// Unit: configuration and the Clerk client (no stack needed)
// ---------------------------------------------------------------------------------------------

Deno.test("config: Clerk settings are optional; the API URL must be https except on loopback", () => {
  const base = {
    SUPABASE_DB_URL: "postgresql://u:p@127.0.0.1:5432/db",
    CLERK_ISSUER: "https://clerk.example.com",
  };
  const config = loadPrivacyConfig(base);
  assertEquals([config.CLERK_SECRET_KEY, config.CLERK_API_URL, config.PRIVACY_RUNNER_SECRET], [
    undefined,
    "https://api.clerk.com",
    undefined,
  ]);
  assertEquals(
    loadPrivacyConfig({ ...base, CLERK_API_URL: "http://127.0.0.1:9999" }).CLERK_API_URL,
    "http://127.0.0.1:9999",
  );
  for (
    const bad of [
      { CLERK_API_URL: "http://api.clerk.example" } as Record<string, string>,
      { CLERK_SECRET_KEY: "pk_test_notasecret" },
      { PRIVACY_RUNNER_SECRET: "short" },
    ]
  ) {
    let message = "";
    try {
      loadPrivacyConfig({ ...base, ...bad });
    } catch (error) {
      message = String(error);
    }
    const [name, value] = Object.entries(bad)[0];
    assertMatch(message, new RegExp(name));
    if (name !== "CLERK_API_URL") assert(!message.includes(value), "a secret's value is never echoed");
  }
});

Deno.test("clerk client: DELETE /v1/users/{id} with the bearer key; 404 counts as done; errors do not", async () => {
  const seen: { url: string; init?: RequestInit }[] = [];
  const answers = [200, 404, 500, 429];
  const fakeFetch = ((url: string, init?: RequestInit) => {
    seen.push({ url, init });
    return Promise.resolve(new Response("{}", { status: answers[seen.length - 1] }));
  }) as typeof fetch;
  const clerk = createClerkBackend({
    secretKey: "sk_test_abcdefgh",
    apiUrl: "https://api.clerk.test/",
    fetch: fakeFetch,
  });
  const outcomes = [];
  for (let i = 0; i < 4; i++) outcomes.push(await clerk.deleteUser("user_abc123"));
  assertEquals(outcomes, [
    { done: true, status: 200 },
    { done: true, status: 404 },
    { done: false, status: 500 },
    { done: false, status: 429 },
  ]);
  assertEquals(seen[0].url, "https://api.clerk.test/v1/users/user_abc123");
  assertEquals(seen[0].init?.method, "DELETE");
  assertEquals((seen[0].init?.headers as Record<string, string>).authorization, "Bearer sk_test_abcdefgh");
  const broken = createClerkBackend({
    secretKey: "sk_test_abcdefgh",
    apiUrl: "https://api.clerk.test",
    fetch: (() => Promise.reject(new TypeError("network"))) as typeof fetch,
  });
  assertEquals(await broken.deleteUser("user_abc123"), { done: false, status: 0 });
});

// ---------------------------------------------------------------------------------------------
// Who may do what
// ---------------------------------------------------------------------------------------------

dbTest("anon: every route answers 401 and nothing is written", async () => {
  const someId = crypto.randomUUID();
  for (
    const [method, path] of [
      ["POST", "/requests"],
      ["GET", "/requests"],
      ["GET", `/requests/${someId}`],
      ["POST", `/requests/${someId}/cancel`],
      ["POST", `/requests/${someId}/approve`],
      ["GET", `/requests/${someId}/export`],
      ["GET", "/data-map"],
      ["POST", "/erasures/run"],
    ]
  ) {
    const response = await privacy(path, {
      method,
      body: method === "POST" ? { kind: "export" } : undefined,
    });
    assertEquals(response.status, 401, `${method} ${path}: ${response.text}`);
    assertEquals(response.headers.get("content-type"), "application/problem+json");
  }
});

dbTest("staff reading someone else's requests is audited; the subject reading their own is not", async () => {
  const subject = await subjectWithData();
  const support = await createUser("support", "dsarv");
  const created = await createRequest(subject, { kind: "export" });
  assertEquals(created.status, 201, created.text);
  const id = created.json.id;
  const entries = async (actor: string) => [
    ...await adminSql`select action, actor_kind, target_id, details from audit.log
              where actor = ${actor} and action in ('dsar.request.viewed', 'dsar.requests.listed') order by id`,
  ];

  assertEquals((await privacy(`/requests/${id}`, { headers: await bearer(subject) })).status, 200);
  assertEquals((await privacy(`/requests`, { headers: await bearer(subject) })).status, 200);
  assertEquals(await entries(subject), [], "a subject reading their own requests is not a staff action");

  const headers = await bearer(support);
  assertEquals((await privacy(`/requests/${id}`, { headers })).status, 200);
  assertEquals((await privacy(`/requests?subject_user_id=${subject}`, { headers })).status, 200);
  const logged = await entries(support);
  assertEquals(logged.map((e) => [e.action, e.actor_kind]), [
    ["dsar.request.viewed", "staff"],
    ["dsar.requests.listed", "staff"],
  ]);
  assertEquals(logged[0].target_id, id);
  assert((logged[1].details.request_ids as string[]).includes(id));
});

dbTest("permission matrix: subject, stranger, support, admin on one request", async () => {
  const subject = await subjectWithData();
  const stranger = await createUser("user", "dsarx");
  const support = await createUser("support", "dsars");
  const admin = await createUser("admin", "dsara");

  const created = await createRequest(subject, { kind: "export" });
  assertEquals(created.status, 201, created.text);
  const id = created.json.id;
  assertEquals(created.headers.get("location"), `${FUNCTIONS_URL}/privacy/requests/${id}`);
  assertEquals([created.json.requested_as, created.json.status], ["subject", "completed"]);

  // The subject and staff see it (get, list, download); the stranger gets 404 everywhere.
  for (const [actor, status] of [[subject, 200], [support, 200], [admin, 200], [stranger, 404]] as const) {
    const headers = await bearer(actor);
    assertEquals((await privacy(`/requests/${id}`, { headers })).status, status, `get as ${actor}`);
    const exported = await privacy(`/requests/${id}/export`, { headers });
    assertEquals(exported.status, status, `export as ${actor}`);
    const list = await privacy(`/requests?subject_user_id=${subject}`, { headers });
    assertEquals(list.status, 200);
    assertEquals(list.json.data.some((r: { id: string }) => r.id === id), status === 200, `list as ${actor}`);
    assertEquals(
      (await privacy(`/requests/${id}/cancel`, { method: "POST", headers })).status,
      status === 200 ? 409 : 404,
    );
  }
  // Approving: only admins (and this export needs none); the stranger still gets 404.
  for (const [actor, status] of [[subject, 403], [support, 403], [admin, 409], [stranger, 404]] as const) {
    assertEquals(
      (await privacy(`/requests/${id}/approve`, { method: "POST", headers: await bearer(actor) })).status,
      status,
      `approve as ${actor}`,
    );
  }

  // Requests about someone else: staff only, with a reason.
  const strangerFor = await createRequest(stranger, { kind: "export", subject_user_id: subject });
  assertEquals(strangerFor.status, 403, strangerFor.text);
  const noReason = await createRequest(support, { kind: "export", subject_user_id: subject });
  assertEquals(noReason.status, 422, noReason.text);
  const unknown = await createRequest(support, {
    kind: "export",
    subject_user_id: randomUserId("nobody"),
    reason: "T-1",
  });
  assertEquals(unknown.status, 404, unknown.text);
  const bySupport = await createRequest(support, {
    kind: "export",
    subject_user_id: subject,
    reason: "TICKET-42",
  });
  assertEquals([bySupport.status, bySupport.json.requested_as, bySupport.json.status], [
    201,
    "support",
    "completed",
  ]);
  assertEquals(await requestCount(subject), 2, "the refused calls created nothing");

  // The stranger's own list holds nothing of the subject; staff-only data map.
  const strangerList = await privacy("/requests", { headers: await bearer(stranger) });
  assertEquals(strangerList.json.data, []);
  assertEquals((await privacy("/data-map", { headers: await bearer(stranger) })).status, 403);
  const map = await privacy("/data-map", { headers: await bearer(support) });
  assertEquals(map.status, 200);
  assert(map.json.data.some((t: { table: string }) => t.table === "public.users"));
});

dbTest("client path: supabase-js functions.invoke creates and lists a request", async () => {
  const userId = randomUserId("dsarjs");
  const client = createClient(GATEWAY_URL, "local-anon-key", { accessToken: () => tokenFor(userId) });
  const created = await client.functions.invoke("privacy/requests", {
    method: "POST",
    body: { kind: "export" },
  });
  assertEquals(created.error, null);
  assertEquals([created.data.subject_user_id, created.data.status], [userId, "completed"]);
  const list = await client.functions.invoke("privacy/requests", { method: "GET" });
  assertEquals(list.data.data.map((r: { id: string }) => r.id), [created.data.id]);
});

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

dbTest(
  "export: one JSON attachment holding every mapped row of the subject, checked against the data map",
  async () => {
    const subject = await subjectWithData("user", 3);
    const headers = await bearer(subject);
    await privacy("/requests", { headers }); // a rate-limit row and a read
    const created = await createRequest(subject, { kind: "export" });
    assertEquals(created.status, 201);
    assertEquals(created.json.export_url, `${FUNCTIONS_URL}/privacy/requests/${created.json.id}/export`);

    // Followed as given: the public URL leads to the download.
    const response = await fetch(created.json.export_url, { headers });
    assertEquals(response.status, 200);
    assertEquals(response.headers.get("content-type"), "application/json; charset=utf-8");
    assertEquals(
      response.headers.get("content-disposition"),
      `attachment; filename="dsar-export-${created.json.id}.json"`,
    );
    assertEquals(response.headers.get("cache-control"), "no-store");
    const body = await response.text();
    assertEquals(
      response.headers.get("x-export-sha256"),
      await sha256Hex(body),
      "the sha256 header matches the bytes",
    );
    const document = JSON.parse(body);
    assertEquals([document.format, document.subject_user_id, document.request_id], [
      "dsar-export/1",
      subject,
      created.json.id,
    ]);

    // Completeness: every table the map exports is there, with as many rows as the table holds.
    // Building and downloading the export writes to two of them afterwards (audit entries, the
    // download's rate-limit counter): those later rows are the only difference allowed.
    const exported = await adminSql`
      select table_schema || '.' || table_name as name from privacy.data_map where export order by 1`;
    const counts = await subjectCounts(subject);
    assertEquals(Object.keys(document.tables).sort(), exported.map((r) => r.name).sort());
    for (const { name } of exported) {
      if (name === "audit.log" || name === "privacy.rate_limits") continue;
      assertEquals(document.tables[name].length, counts[name], name);
      assertEquals(document.counts[name], counts[name], name);
    }
    const auditIds = new Set(document.tables["audit.log"].map((e: { id: number }) => String(e.id)));
    const audit = await adminSql`select id::text, action from audit.log where actor = ${subject} order by id`;
    assertEquals(
      audit.filter((e) => !auditIds.has(e.id)).map((e) => e.action),
      ["dsar.export.completed", "dsar.export.downloaded"],
      "audit entries missing from the export are only those written after it was built",
    );
    assertEquals(auditIds.size, audit.length - 2);
    const limits =
      await adminSql`select action from privacy.rate_limits where actor = ${subject} order by action`;
    assertEquals(
      document.tables["privacy.rate_limits"].map((l: { action: string }) => l.action).sort(),
      limits.map((l) => l.action).filter((action) => action !== "download"),
    );
    for (
      const name of ["public.users", "public.projects", "public.workspace_tabs", "public.workspace_history"]
    ) {
      assert(document.tables[name].length > 0, `${name} has rows`);
    }
    assertEquals(
      document.tables["public.users"][0].email,
      `${subject.slice(-10).toLowerCase()}@example.invalid`,
    );
    assertEquals(document.tables["public.projects"].length, 3);
    assertEquals(document.tables["private.clerk_webhook_inbox"][0].svix_id, `msg_dsar_${subject}`);
    assertEquals(document.data_map["public.users"].columns.email.classification, "contact");
    assert(!("privacy.exports" in document.tables), "exports are never nested");

    // The download is audited; after expiry it is gone.
    const [{ n }] = await adminSql`
    select count(*)::int as n from audit.log where action = 'dsar.export.downloaded' and target_id = ${created.json.id}`;
    assertEquals(n, 1);
    await adminSql`update privacy.exports set created_at = now() - interval '8 days', expires_at = now() - interval '1 second'
                 where request_id = ${created.json.id}`;
    const expired = await privacy(`/requests/${created.json.id}/export`, { headers });
    assertEquals(expired.status, 410, expired.text);
  },
);

// ---------------------------------------------------------------------------------------------
// Erasure
// ---------------------------------------------------------------------------------------------

dbTest("erasure: scheduled with a grace period, run by an admin, nothing left, proof recorded", async () => {
  const subject = await subjectWithData();
  const admin = await createUser("admin", "dsara");
  const support = await createUser("support", "dsars");

  const own = await createRequest(subject, { kind: "erasure" });
  assertEquals(own.status, 201, own.text);
  assertEquals([own.json.status, own.json.grace_period_seconds, own.json.approval_required], [
    "scheduled",
    604800,
    false,
  ]);
  assertEquals(Date.parse(own.json.scheduled_for) - Date.parse(own.json.received_at), 7 * 86_400_000);
  assertEquals(
    new Date(own.json.due_at).toISOString(),
    plusOneMonthUtc(new Date(own.json.received_at)).toISOString(),
  );
  // Only staff shorten the grace period, and only with a reason; one open erasure per person.
  const shorter = await createRequest(subject, {
    kind: "erasure",
    grace_hours: 1,
    grace_reason: "now please",
  });
  assertEquals(shorter.status, 403, shorter.text);
  const again = await createRequest(admin, { kind: "erasure", subject_user_id: subject, reason: "T-2" });
  assertEquals(again.status, 409, again.text);
  const noGraceReason = await createRequest(support, {
    kind: "erasure",
    subject_user_id: subject,
    reason: "T-3",
    grace_hours: 0,
  });
  assertEquals(noGraceReason.status, 422, noGraceReason.text);
  assertEquals(await requestCount(subject), 1);

  // The subject's own request waits; an admin cancels it and schedules one with no grace.
  const cancelled = await privacy(`/requests/${own.json.id}/cancel`, {
    method: "POST",
    headers: await bearer(admin),
  });
  assertEquals([cancelled.status, cancelled.json.status], [200, "cancelled"]);
  const id = await dueErasure(admin, subject);
  const before = await subjectCounts(subject);
  assert(before["public.workspace_history"] > 0 && before["public.projects"] === 2);

  // A plain user cannot run erasures; an admin can (the cron job may have run it already).
  assertEquals(
    (await privacy("/erasures/run", { method: "POST", headers: await bearer(subject) })).status,
    403,
  );
  const run = await privacy("/erasures/run", { method: "POST", headers: await bearer(admin) });
  assertEquals(run.status, 200, run.text);
  assertEquals(run.json.erasures.job, "run-due-erasures");
  assertEquals(run.json.clerk.configured, false);

  const done = await privacy(`/requests/${id}`, { headers: await bearer(admin) });
  assertEquals(done.json.status, "completed");
  assertEquals(done.json.row_counts["public.projects"], { action: "cascade", rows: 2 });
  assertEquals(done.json.row_counts["private.clerk_webhook_inbox"], { action: "anonymize", rows: 1 });
  for (const [table, remaining] of Object.entries(done.json.proof.remaining)) {
    assertEquals(remaining, 0, table);
  }
  assertEquals(done.json.proof.tombstone, true);
  const after = await subjectCounts(subject);
  const erasedTables =
    await adminSql`select table_schema || '.' || table_name as name from privacy.data_map where erasure <> 'retain'`;
  for (const { name } of erasedTables) assertEquals(after[name], 0, name);
  assertEquals(after["private.clerk_user_tombstones"], 1);

  // Re-running changes nothing; the erased subject is refused by the API and by a late webhook.
  const rerun = await privacy("/erasures/run", { method: "POST", headers: await bearer(admin) });
  assertEquals(rerun.status, 200);
  const unchanged = await privacy(`/requests/${id}`, { headers: await bearer(admin) });
  assertEquals([unchanged.json.completed_at, unchanged.json.attempts], [
    done.json.completed_at,
    done.json.attempts,
  ]);
  assertEquals((await call("api", "/me", { headers: await bearer(subject) })).status, 410);
  const late = await deliver(userEvent("user.created", subject, { updatedAt: Date.now() }));
  assertEquals([late.status, late.json.outcome], [200, "tombstoned"]);
  const [{ n }] = await adminSql`select count(*)::int as n from public.users where id = ${subject}`;
  assertEquals(n, 0);
  // The subject still sees the proof of their erasure.
  const seenBySubject = await privacy(`/requests/${id}`, { headers: await bearer(subject) });
  assertEquals([seenBySubject.status, seenBySubject.json.status], [200, "completed"]);
});

dbTest(
  "shorten grace: staff only, with a reason, never longer, not once started; bad bodies 400",
  async () => {
    const subject = await subjectWithData();
    const support = await createUser("support", "dsars");
    const own = await createRequest(subject, { kind: "erasure" });
    assertEquals(own.status, 201, own.text);
    const id = own.json.id;
    const grace = (actor: string, body: unknown) =>
      bearer(actor).then((headers) => privacy(`/requests/${id}/grace`, { method: "POST", headers, body }));

    assertEquals((await grace(subject, { grace_hours: 1, grace_reason: "hurry" })).status, 403);
    for (
      const [label, body] of [
        ["no reason", { grace_hours: 1 }],
        ["negative", { grace_hours: -1, grace_reason: "x" }],
        ["fractional", { grace_hours: 1.5, grace_reason: "x" }],
        ["two lines", { grace_hours: 1, grace_reason: "a\nb" }],
        ["unknown field", { grace_hours: 1, grace_reason: "x", status: "completed" }],
      ] as const
    ) {
      const refused = await grace(support, body);
      assertEquals(refused.status, 400, `${label}: ${refused.text}`);
    }
    assertEquals((await grace(support, { grace_hours: 24 * 30, grace_reason: "longer" })).status, 422);
    assertEquals((await requestRow(id)).grace_period, "7 days", "refusals changed nothing");

    const shortened = await grace(support, { grace_hours: 2, grace_reason: "T-9: the subject asked" });
    assertEquals(shortened.status, 200, shortened.text);
    assertEquals([shortened.json.status, shortened.json.grace_period_seconds, shortened.json.grace_reason], [
      "scheduled",
      7_200,
      "T-9: the subject asked",
    ]);
    assertEquals(
      Date.parse(shortened.json.scheduled_for) - Date.parse(shortened.json.received_at),
      7_200_000,
    );
    const [audit] = await adminSql`
    select actor, details from audit.log where action = 'dsar.erasure.grace_shortened' and target_id = ${id}`;
    assertEquals([audit.actor, audit.details.grace_seconds, audit.details.grace_seconds_before], [
      support,
      7_200,
      604_800,
    ]);

    const cancelled = await privacy(`/requests/${id}/cancel`, {
      method: "POST",
      headers: await bearer(support),
    });
    assertEquals(cancelled.status, 200, cancelled.text);
    assertEquals((await grace(support, { grace_hours: 0, grace_reason: "late" })).status, 409);
  },
);

dbTest("approval: support's erasure needs an admin who is not the requester", async () => {
  const subject = await subjectWithData();
  const support = await createUser("support", "dsars");
  const admin = await createUser("admin", "dsara");
  const created = await createRequest(support, {
    kind: "erasure",
    subject_user_id: subject,
    reason: "TICKET-7",
  });
  assertEquals(created.status, 201, created.text);
  assertEquals([created.json.status, created.json.approval_required, created.json.scheduled_for], [
    "received",
    true,
    null,
  ]);
  const id = created.json.id;

  assertEquals(
    (await privacy(`/requests/${id}/approve`, { method: "POST", headers: await bearer(support) })).status,
    403,
  );
  // Even once promoted to admin, the requester cannot approve their own request.
  await adminSql`update public.users set role = 'admin' where id = ${support}`;
  const selfApproval = await privacy(`/requests/${id}/approve`, {
    method: "POST",
    headers: await bearer(support),
  });
  assertEquals(selfApproval.status, 403, selfApproval.text);
  assertEquals((await requestRow(id)).status, "received");

  const approved = await privacy(`/requests/${id}/approve`, { method: "POST", headers: await bearer(admin) });
  assertEquals(approved.status, 200, approved.text);
  assertEquals([approved.json.status, approved.json.approved_by], ["scheduled", admin]);
  assertEquals(
    Date.parse(approved.json.scheduled_for) - Date.parse(approved.json.received_at),
    7 * 86_400_000,
  );
  assertEquals(
    (await privacy(`/requests/${id}/approve`, { method: "POST", headers: await bearer(admin) })).status,
    409,
  );

  // Cancellable until it starts: the subject changes their mind.
  const cancelled = await privacy(`/requests/${id}/cancel`, {
    method: "POST",
    headers: await bearer(subject),
  });
  assertEquals([cancelled.status, cancelled.json.status, cancelled.json.cancelled_by], [
    200,
    "cancelled",
    subject,
  ]);
  assertEquals(
    (await privacy(`/requests/${id}/cancel`, { method: "POST", headers: await bearer(subject) })).status,
    409,
  );
  const [{ actions }] = await adminSql`
    select array_agg(action order by id) as actions from audit.log where target_table = 'requests' and target_id = ${id}`;
  assertEquals(actions, ["dsar.erasure.requested", "dsar.erasure.approved", "dsar.erasure.cancelled"]);
});

dbTest("a webhook update arriving during an erasure waits for it, then finds the tombstone", async () => {
  const subject = randomUserId("dsarrace");
  const created = await deliver(userEvent("user.created", subject, { updatedAt: Date.now() - 10_000 }));
  assertEquals(created.json.outcome, "applied");
  await adminSql`insert into public.projects (user_id, name) values (${subject}, 'Racing')`;

  const tx = await adminSql.reserve();
  let webhook: Promise<{ status: number; json: { outcome?: string } }> | undefined;
  try {
    await tx`begin`;
    // Created inside the transaction: the cron job cannot pick it up first.
    const [{ id }] = await tx`
      insert into privacy.requests (kind, subject_user_id, requested_as, requester_user_id, status, grace_period, scheduled_for)
      values ('erasure', ${subject}, 'subject', ${subject}, 'scheduled', interval '0', now()) returning id`;
    const [{ status }] = await tx`select privacy.run_erasure(${id}::uuid) as status`;
    assertEquals(status, "completed");

    // The erasure holds the exclusive lock on the Clerk id until it commits: the webhook's
    // backend is seen waiting for a lock of this transaction, and has not answered.
    const [{ pid }] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
    let settled = false;
    webhook = deliver(userEvent("user.updated", subject, { updatedAt: Date.now(), firstName: "Back" }));
    webhook.then(() => settled = true, () => settled = true);
    await waitUntilBlockedBy(pid);
    assertEquals(settled, false, "the webhook waits for the erasure");
    await tx`commit`;
  } catch (error) {
    await tx`rollback`.catch(() => {});
    throw error;
  } finally {
    tx.release();
  }
  const answer = await webhook!;
  assertEquals([answer.status, answer.json.outcome], [200, "tombstoned"]);
  const [{ n }] = await adminSql`select count(*)::int as n from public.users where id = ${subject}`;
  assertEquals(n, 0, "the update did not re-create the user");
});

dbTest(
  "Clerk user.deleted: an erasure is created and executed at once, with proof; no Clerk call",
  async () => {
    const subject = randomUserId("dsarclerk");
    await deliver(userEvent("user.created", subject));
    await adminSql`insert into public.projects (user_id, name) values (${subject}, 'P')`;
    const deleted = await deliver(userDeletedEvent(subject));
    assertEquals([deleted.status, deleted.json.outcome], [200, "applied"]);
    const [request] = await adminSql`select * from privacy.requests where subject_user_id = ${subject}`;
    assertEquals(
      [request.kind, request.requested_as, request.status, request.clerk_delete_required],
      ["erasure", "clerk", "completed", false],
    );
    assertEquals(request.proof.remaining["public.projects"], 0);
    const [{ n }] = await adminSql`
    select count(*)::int as n from private.clerk_webhook_inbox where clerk_user_id = ${subject}`;
    assertEquals(n, 0, "no webhook delivery keeps the erased user's id");
  },
);

// ---------------------------------------------------------------------------------------------
// Clerk Backend API (local stand-in) and the scheduled runner
// ---------------------------------------------------------------------------------------------

dbTest(
  "runner: erased users are deleted at Clerk (stand-in on loopback); 404 is done, 500 is retried",
  async () => {
    const url = await withClerkGateway();
    const admin = await createUser("admin", "dsara");
    const deletedNow = await subjectWithData();
    const alreadyGone = await subjectWithData();
    const failingFirst = await subjectWithData();
    clerkStandIn.gone.add(alreadyGone);
    clerkStandIn.failing.add(failingFirst);
    const ids = [
      await dueErasure(admin, deletedNow),
      await dueErasure(admin, alreadyGone),
      await dueErasure(admin, failingFirst),
    ];
    // Reported by Clerk itself: no call back to Clerk.
    const byClerk = randomUserId("dsarbyclerk");
    await deliver(userEvent("user.created", byClerk));
    await deliver(userDeletedEvent(byClerk));

    // Who may trigger the runner.
    assertEquals((await runErasures(url, {})).status, 401);
    assertEquals(
      (await runErasures(url, { "x-privacy-runner-secret": "wrong-secret-wrong-secret-wrong-secret" }))
        .status,
      401,
    );
    const plainUser = await createUser("user", "dsarx");
    assertEquals((await runErasures(url, await bearer(plainUser))).status, 403);

    const run = await runErasures(url, { "x-privacy-runner-secret": RUNNER_SECRET }, { max_requests: 50 });
    assertEquals(run.status, 200, JSON.stringify(run.json));
    assertEquals(run.json.clerk.configured, true);
    for (const id of ids) assertEquals((await requestRow(id)).status, "completed");

    assertEquals(clerkStandIn.callsFor(deletedNow).length, 1);
    assertEquals(clerkStandIn.callsFor(deletedNow)[0].method, "DELETE");
    assertEquals(clerkStandIn.callsFor(deletedNow)[0].authorization, `Bearer ${CLERK_SECRET_KEY}`);
    assertEquals(clerkStandIn.callsFor(alreadyGone).length, 1);
    assertEquals(clerkStandIn.callsFor(failingFirst).length, 1);
    assertEquals(clerkStandIn.callsFor(byClerk).length, 0, "Clerk's own deletion is not sent back to Clerk");

    const [done, gone, failing] = await Promise.all(ids.map(requestRow));
    assertExists(done.clerk_deleted_at);
    assertExists(gone.clerk_deleted_at, "404: already gone at Clerk counts as done");
    assertEquals([failing.clerk_deleted_at, failing.clerk_error], [null, "http 500"]);
    const [{ n }] = await adminSql`
    select count(*)::int as n from audit.log where action = 'dsar.erasure.clerk_deleted' and target_id = ${
      ids[0]
    }`;
    assertEquals(n, 1);

    // The next run retries the failure only, and then nothing is left to do.
    clerkStandIn.failing.delete(failingFirst);
    const retry = await runErasures(url, { "x-privacy-runner-secret": RUNNER_SECRET });
    assertEquals(retry.status, 200);
    assertEquals(clerkStandIn.callsFor(deletedNow).length, 1, "no second call for a user already deleted");
    assertEquals(clerkStandIn.callsFor(failingFirst).length, 2);
    assertExists((await requestRow(ids[2])).clerk_deleted_at);
    const third = await runErasures(url, await bearer(admin));
    assertEquals(third.status, 200, "an admin session may run it too");
    for (const user of [deletedNow, alreadyGone, failingFirst]) {
      assert(clerkStandIn.callsFor(user).length <= 2);
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Rate limits
// ---------------------------------------------------------------------------------------------

dbTest("rate limit: 429 with Retry-After, counted in the database so every isolate agrees", async () => {
  const otherGateway = await withClerkGateway();
  const actor = randomUserId("dsarrate");
  const [{ limit }] = await adminSql`select ops.setting_int('dsar_rate_create') as limit`;
  // Nearly used up: limit - 1 creates in this window already.
  await adminSql`
    insert into privacy.rate_limits (actor, action, window_start, hits)
    values (${actor}, 'create', date_bin(ops.setting_interval('dsar_rate_window'), now(), '2000-01-01 00:00:00+00'), ${
    limit - 1
  })`;
  const headers = await bearer(actor);
  const last = await createRequest(actor, { kind: "export" });
  assertEquals(last.status, 201, last.text);
  assertEquals(last.headers.get("ratelimit-remaining"), "0");

  // The other gateway process (another isolate) sees the same counter.
  const response = await fetch(`${otherGateway}/privacy/requests`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ kind: "export" }),
  });
  const problem = await response.json();
  assertEquals(response.status, 429, JSON.stringify(problem));
  const retryAfter = Number(response.headers.get("retry-after"));
  assert(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600, `retry-after ${retryAfter}`);
  assertEquals(problem.title, "Too Many Requests");
  assertEquals(await requestCount(actor), 1, "the refused call created nothing");
  // Other actions have their own budget.
  assertEquals((await privacy("/requests", { headers })).status, 200);
});

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

dbTest("bad input: clear 4xx, nothing written", async () => {
  const actor = randomUserId("dsarbad");
  const headers = await bearer(actor);
  for (
    const [label, body] of [
      ["unknown kind", { kind: "delete" }],
      ["unknown field", { kind: "export", extra: 1 }],
      ["grace on an export", { kind: "export", grace_hours: 1 }],
      ["grace reason without hours", { kind: "erasure", grace_reason: "x" }],
      ["negative grace", { kind: "erasure", grace_hours: -1 }],
      ["not a Clerk id", { kind: "export", subject_user_id: "usr-1" }],
      ["multi-line reason", { kind: "export", reason: "a\nb" }],
    ] as const
  ) {
    const response = await createRequest(actor, body);
    assertEquals(response.status, 400, `${label}: ${response.text}`);
    assertExists(response.json.errors);
  }
  const notJson = await privacy("/requests", {
    method: "POST",
    headers: { ...headers, "content-type": "text/plain" },
    body: "x",
  });
  assertEquals(notJson.status, 415);
  assertEquals((await privacy("/requests/not-a-uuid", { headers })).status, 400);
  assertEquals((await privacy("/requests?limit=0", { headers })).status, 400);
  assertEquals((await privacy("/requests?status=done", { headers })).status, 400);
  assertEquals((await privacy(`/requests/${crypto.randomUUID()}`, { headers })).status, 404);
  assertEquals(await requestCount(actor), 0);
});

dbTest("list: keyset pagination over the caller's requests, newest first", async () => {
  const actor = randomUserId("dsarpage");
  const headers = await bearer(actor);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await createRequest(actor, { kind: "export" })).json.id);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof privacy>> = await privacy(
      `/requests?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      { headers },
    );
    assertEquals(page.status, 200);
    seen.push(...page.json.data.map((r: { id: string }) => r.id));
    cursor = page.json.next_cursor;
  } while (cursor);
  assertEquals(seen.length, 3);
  assertEquals(new Set(seen), new Set(ids));
  assertNotEquals(seen[0], undefined);
});

// The helpers this file started, stopped after its last test (the admin connection closes itself:
// tests/_support/db.ts).
Deno.test.afterAll(async () => {
  await clerkGateway?.stop();
  await clerkStandIn.server?.shutdown();
});
