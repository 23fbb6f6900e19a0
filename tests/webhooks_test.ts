/**
 * Clerk webhook receiver over real HTTP (gateway -> clerk-webhooks -> Postgres), with deliveries
 * signed by the svix library exactly as Svix signs them. Every test uses its own random Clerk ids
 * and checks both the HTTP answer and what the database holds (users, inbox, tombstones).
 */
import { assert, assertEquals, assertExists, assertThrows } from "@std/assert";
import { Webhook } from "svix";
import { z } from "zod";
import { adminSql, randomUserId } from "./_support/db.ts";
import { bearer } from "./_support/auth.ts";
import { call } from "./_support/http.ts";
import { DB_URL, FUNCTIONS_URL } from "./_support/env.ts";
import { startGateway } from "./_support/gateway.ts";
import { TcpProxy } from "./_support/tcp_proxy.ts";
import {
  type Delivery,
  postDelivery,
  sessionEvent,
  signDelivery,
  svixMessageId,
  userDeletedEvent,
  userEvent,
  webhookSecret,
} from "../tools/send_webhooks.ts";
import { parseClerkEvent } from "../supabase/functions/clerk-webhooks/events.ts";
import { loadWebhookConfig } from "../supabase/functions/clerk-webhooks/config.ts";
import { localDbUrl } from "../tools/settings.ts";

const WEBHOOK_URL = `${FUNCTIONS_URL}/clerk-webhooks`;
const SECRET = await webhookSecret();

/** Tests that hold the shared admin connection or spawn processes: no per-test sanitizers. */
function dbTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

function send(delivery: Delivery, url = WEBHOOK_URL) {
  return postDelivery(url, delivery);
}

/** Signs and posts one event; returns the answer and the delivery (to replay it). */
async function deliver(event: unknown, options: { sentAt?: Date; svixId?: string } = {}) {
  const delivery = signDelivery(SECRET, event, options);
  const response = await send(delivery);
  return { ...response, delivery };
}

function otherSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
}

function randomSignature(): string {
  return `v1,${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
}

async function userRow(id: string) {
  const [row] = await adminSql`
    select id, email, first_name, last_name, image_url, display_name, preferences, role,
           clerk_created_at, clerk_updated_at, last_sign_in_at, last_active_at, created_at, updated_at
    from public.users where id = ${id}`;
  return row;
}

async function inboxRows(svixIds: string[]) {
  return await adminSql`
    select svix_id, event_type, clerk_user_id, event_at, received_at, outcome
    from private.clerk_webhook_inbox where svix_id = any(${svixIds}) order by received_at, svix_id`;
}

async function isTombstoned(userId: string): Promise<boolean> {
  const [{ exists }] = await adminSql`
    select exists (select 1 from private.clerk_user_tombstones where user_id = ${userId})`;
  return exists;
}

/** Nothing about this delivery or user reached the database. */
async function assertNothingWritten(svixId: string, userId?: string) {
  assertEquals((await inboxRows([svixId])).length, 0, "no inbox row");
  if (userId) {
    assertEquals(await userRow(userId), undefined, "no user row");
    assertEquals(await isTombstoned(userId), false, "no tombstone");
  }
}

const ms = (date: Date | null | undefined) => date?.getTime() ?? null;

// ---------------------------------------------------------------------------------------------
// Unit: parsing and configuration (no stack needed)
// ---------------------------------------------------------------------------------------------

Deno.test("parse: the primary email is the one primary_email_address_id names, not the first", () => {
  const userId = randomUserId("unit");
  const event = parseClerkEvent("msg_unit", userEvent("user.created", userId, { primarySecond: true }));
  assertEquals(event.kind, "user.upsert");
  if (event.kind !== "user.upsert") return;
  assertEquals(event.profile.email, `${userId.slice(-8).toLowerCase()}@example.invalid`);
  // A non-https image (Clerk development instances) is dropped, not fatal; "" names become null.
  const lenient = parseClerkEvent(
    "msg_unit",
    userEvent("user.updated", userId, { imageUrl: "http://insecure.example/a.png", lastName: "" }),
  );
  assert(
    lenient.kind === "user.upsert" && lenient.profile.imageUrl === null && lenient.profile.lastName === null,
  );
  // Names longer than the column are cut to 200 characters (not split inside a surrogate pair).
  const long = parseClerkEvent(
    "msg_unit",
    userEvent("user.updated", userId, { firstName: "é😀".repeat(150) }),
  );
  assert(long.kind === "user.upsert" && Array.from(long.profile.firstName ?? "").length === 200);
  // No primary address at all (phone-only users): no email.
  const phoneOnly = userEvent("user.created", userId);
  phoneOnly.data.primary_email_address_id = null;
  const parsed = parseClerkEvent("msg_unit", phoneOnly);
  assert(parsed.kind === "user.upsert" && parsed.profile.email === null);
});

Deno.test("parse: malformed handled types throw with paths from the envelope root; unknown types pass", () => {
  const userId = randomUserId("unit");
  const missingPrimary = userEvent("user.created", userId);
  missingPrimary.data.primary_email_address_id = "idn_nowhere";
  // Valid for Clerk (its own OpenAPI examples do this): no email and a warning, never a 400.
  const lenient = parseClerkEvent("msg_unit", missingPrimary);
  assert(lenient.kind === "user.upsert" && lenient.profile.email === null);
  assertEquals(lenient.warnings, ["primary_email_missing"]);
  const error = assertThrows(
    () =>
      parseClerkEvent("msg_unit", {
        ...missingPrimary,
        data: { ...missingPrimary.data, updated_at: "soon" },
      }),
    z.ZodError,
  );
  assertEquals(error.issues[0].path, ["data", "updated_at"]);
  assertThrows(() => parseClerkEvent("msg_unit", { ...userEvent("user.updated", userId), object: "user" }));
  assertThrows(() => parseClerkEvent("msg_unit", { ...userDeletedEvent(userId), data: { deleted: true } }));
  const unknown = parseClerkEvent("msg_unit", {
    object: "event",
    type: "organization.created",
    data: { anything: 1 },
    timestamp: 1,
  });
  assertEquals(unknown.kind, "ignored");
  assertEquals(unknown.userId, null);
});

Deno.test("config: the signing secret is required, must be whsec_ base64, and is trimmed", () => {
  const base = { SUPABASE_DB_URL: DB_URL };
  const secret = otherSecret();
  assertEquals(
    loadWebhookConfig({ ...base, CLERK_WEBHOOK_SIGNING_SECRET: `  ${secret}\n` })
      .CLERK_WEBHOOK_SIGNING_SECRET,
    secret,
  );
  const missing = assertThrows(() => loadWebhookConfig(base));
  assert(String(missing).includes("CLERK_WEBHOOK_SIGNING_SECRET is required"), String(missing));
  const bad = assertThrows(() =>
    loadWebhookConfig({ ...base, CLERK_WEBHOOK_SIGNING_SECRET: "sk_live_not_it" })
  );
  assert(String(bad).includes("CLERK_WEBHOOK_SIGNING_SECRET"));
  assert(!String(bad).includes("sk_live_not_it"), "the value never appears in the message");
});

// ---------------------------------------------------------------------------------------------
// Verification: any failure is a 401 and writes nothing
// ---------------------------------------------------------------------------------------------

dbTest("valid signature: user.created is applied, primary email chosen by id, one inbox row", async () => {
  const userId = randomUserId("whok");
  const updatedAt = Date.now() - 1_000;
  const event = userEvent("user.created", userId, {
    updatedAt,
    createdAt: updatedAt - 5_000,
    email: "primary@example.invalid",
    primarySecond: true,
    firstName: "Ada",
    lastName: "Lovelace",
    lastSignInAt: updatedAt - 2_000,
  });
  const { status, json, delivery } = await deliver(event);
  assertEquals(status, 200, JSON.stringify(json));
  assertEquals(json, { svix_id: delivery.svixId, type: "user.created", outcome: "applied" });

  const row = await userRow(userId);
  assertExists(row);
  assertEquals(row.email, "primary@example.invalid");
  assertEquals([row.first_name, row.last_name, row.image_url], [
    "Ada",
    "Lovelace",
    "https://img.clerk.com/sample",
  ]);
  assertEquals(ms(row.clerk_updated_at), updatedAt);
  assertEquals(ms(row.clerk_created_at), updatedAt - 5_000);
  assertEquals(ms(row.last_sign_in_at), updatedAt - 2_000);
  assertEquals(row.role, "user");

  const inbox = await inboxRows([delivery.svixId]);
  assertEquals(inbox.length, 1);
  assertEquals(inbox[0].event_type, "user.created");
  assertEquals(inbox[0].clerk_user_id, userId);
  assertEquals(inbox[0].outcome, "applied");
  assertEquals(ms(inbox[0].event_at), updatedAt);
  assertExists(inbox[0].received_at);
});

dbTest("bad signature: 401, nothing written", async () => {
  const userId = randomUserId("whbad");
  const delivery = signDelivery(SECRET, userEvent("user.created", userId));
  const response = await send({
    ...delivery,
    headers: { ...delivery.headers, "svix-signature": randomSignature() },
  });
  assertEquals(response.status, 401);
  assertEquals(response.json.title, "Unauthorized");
  await assertNothingWritten(delivery.svixId, userId);
});

dbTest("wrong secret: 401, nothing written", async () => {
  const userId = randomUserId("whsec");
  const delivery = signDelivery(otherSecret(), userEvent("user.created", userId));
  const response = await send(delivery);
  assertEquals(response.status, 401);
  await assertNothingWritten(delivery.svixId, userId);
});

dbTest("timestamps: more than 5 minutes old or ahead is 401; within tolerance is accepted", async () => {
  for (const offsetMs of [-6 * 60_000, 6 * 60_000, -24 * 3_600_000]) {
    const userId = randomUserId("whts");
    const delivery = signDelivery(SECRET, userEvent("user.created", userId), {
      sentAt: new Date(Date.now() + offsetMs),
    });
    const response = await send(delivery);
    assertEquals(response.status, 401, `offset ${offsetMs} ms`);
    await assertNothingWritten(delivery.svixId, userId);
  }
  const userId = randomUserId("whts");
  const { status, delivery } = await deliver(userEvent("user.created", userId), {
    sentAt: new Date(Date.now() - 4 * 60_000),
  });
  assertEquals(status, 200);
  assertEquals((await inboxRows([delivery.svixId])).length, 1);
  assertExists(await userRow(userId));
});

dbTest("missing svix headers: 401 each, nothing written", async () => {
  const userId = randomUserId("whhdr");
  const delivery = signDelivery(SECRET, userEvent("user.created", userId));
  for (const header of ["svix-id", "svix-timestamp", "svix-signature"]) {
    const headers = { ...delivery.headers };
    delete headers[header as keyof typeof headers];
    const response = await send({ ...delivery, headers });
    assertEquals(response.status, 401, `without ${header}`);
  }
  const none = await send({ ...delivery, headers: { "content-type": "application/json" } });
  assertEquals(none.status, 401);
  await assertNothingWritten(delivery.svixId, userId);
});

dbTest("body altered after signing: 401, nothing written", async () => {
  const userId = randomUserId("whalt");
  const delivery = signDelivery(SECRET, userEvent("user.created", userId, { email: "real@example.invalid" }));
  const tampered = delivery.body.replace("real@example.invalid", "evil@example.invalid");
  assert(tampered !== delivery.body);
  assertEquals((await send({ ...delivery, body: tampered })).status, 401);
  // Even a whitespace change breaks the signature: the raw bytes are verified, not the JSON.
  assertEquals((await send({ ...delivery, body: `${delivery.body} ` })).status, 401);
  // And a genuine signature for another svix-id does not transfer.
  assertEquals(
    (await send({ ...delivery, headers: { ...delivery.headers, "svix-id": svixMessageId() } })).status,
    401,
  );
  await assertNothingWritten(delivery.svixId, userId);
});

dbTest("two signatures (key rotation), one valid: accepted; two invalid: 401", async () => {
  const userId = randomUserId("whrot");
  const delivery = signDelivery(SECRET, userEvent("user.created", userId));
  const invalidOnly = await send({
    ...delivery,
    headers: { ...delivery.headers, "svix-signature": `${randomSignature()} ${randomSignature()}` },
  });
  assertEquals(invalidOnly.status, 401);
  await assertNothingWritten(delivery.svixId, userId);

  // The old secret's signature first, the current one second, as Svix sends during rotation.
  const oldSecretSignature = new Webhook(otherSecret()).sign(
    delivery.svixId,
    new Date(Number(delivery.headers["svix-timestamp"]) * 1000),
    delivery.body,
  );
  const rotated = await send({
    ...delivery,
    headers: {
      ...delivery.headers,
      "svix-signature": `${oldSecretSignature} ${delivery.headers["svix-signature"]}`,
    },
  });
  assertEquals(rotated.status, 200);
  assertEquals(rotated.json.outcome, "applied");
  assertEquals((await inboxRows([delivery.svixId])).length, 1);
  assertExists(await userRow(userId));
});

// ---------------------------------------------------------------------------------------------
// Idempotency and ordering
// ---------------------------------------------------------------------------------------------

dbTest(
  "replay: the same svix-id is applied once; later deliveries (also re-signed days later) are no-ops",
  async () => {
    const userId = randomUserId("whrep");
    const { status, json, delivery } = await deliver(
      userEvent("user.created", userId, { firstName: "Once" }),
    );
    assertEquals([status, json.outcome], [200, "applied"]);
    const before = await userRow(userId);

    // Svix retry: the identical delivery.
    const retry = await send(delivery);
    assertEquals([retry.status, retry.json.outcome], [200, "duplicate"]);
    // Manual replay from the dashboard: same svix-id and body, fresh timestamp and signature.
    const replay = await send(signDelivery(SECRET, delivery.body, { svixId: delivery.svixId }));
    assertEquals([replay.status, replay.json.outcome], [200, "duplicate"]);
    // Concurrent retries of an applied delivery: all no-ops.
    const concurrent = await Promise.all([1, 2, 3, 4].map(() => send(delivery)));
    assertEquals(concurrent.map((r) => r.json.outcome), ["duplicate", "duplicate", "duplicate", "duplicate"]);

    const inbox = await inboxRows([delivery.svixId]);
    assertEquals(inbox.length, 1);
    assertEquals(inbox[0].outcome, "applied");
    const after = await userRow(userId);
    assertEquals(ms(after.updated_at), ms(before.updated_at), "the row was not written again");
  },
);

dbTest("concurrent first deliveries of one svix-id: exactly one applies", async () => {
  const userId = randomUserId("whcon");
  const delivery = signDelivery(SECRET, userEvent("user.created", userId));
  const answers = await Promise.all(Array.from({ length: 8 }, () => send(delivery)));
  assertEquals(answers.map((a) => a.status), Array(8).fill(200));
  const outcomes = answers.map((a) => a.json.outcome).sort();
  assertEquals(outcomes, ["applied", ...Array(7).fill("duplicate")]);
  assertEquals((await inboxRows([delivery.svixId])).length, 1);
  const row = await userRow(userId);
  assertEquals(ms(row.updated_at), ms(row.created_at), "written once");
});

dbTest(
  "out-of-order updates: an older user.updated or user.created never overwrites a newer one",
  async () => {
    const userId = randomUserId("whord");
    const t0 = Date.now() - 60_000;
    const newest = await deliver(userEvent("user.updated", userId, {
      createdAt: t0,
      updatedAt: t0 + 20_000,
      firstName: "Newest",
      email: "newest@example.invalid",
    }));
    assertEquals([newest.status, newest.json.outcome], [200, "applied"]);
    const older = await deliver(userEvent("user.updated", userId, {
      createdAt: t0,
      updatedAt: t0 + 10_000,
      firstName: "Older",
      email: "older@example.invalid",
    }));
    assertEquals([older.status, older.json.outcome], [200, "stale"]);
    const created = await deliver(
      userEvent("user.created", userId, { createdAt: t0, updatedAt: t0, firstName: "First" }),
    );
    assertEquals([created.status, created.json.outcome], [200, "stale"]);
    // Same updated_at as stored: not newer, so not applied either.
    const same = await deliver(
      userEvent("user.updated", userId, { updatedAt: t0 + 20_000, firstName: "Same" }),
    );
    assertEquals(same.json.outcome, "stale");

    let row = await userRow(userId);
    assertEquals([row.first_name, row.email, ms(row.clerk_updated_at)], [
      "Newest",
      "newest@example.invalid",
      t0 + 20_000,
    ]);
    const inbox = await inboxRows([newest, older, created, same].map((d) => d.delivery.svixId));
    assertEquals(inbox.map((r) => r.outcome).sort(), ["applied", "stale", "stale", "stale"]);

    const newer = await deliver(
      userEvent("user.updated", userId, { updatedAt: t0 + 30_000, firstName: "Newer" }),
    );
    assertEquals(newer.json.outcome, "applied");
    row = await userRow(userId);
    assertEquals([row.first_name, ms(row.clerk_updated_at)], ["Newer", t0 + 30_000]);
  },
);

dbTest("sessions: timestamps only move forward; unknown users get 2xx and are kept pending", async () => {
  const userId = randomUserId("whses");
  const t0 = Date.now() - 3_600_000;
  assertEquals((await deliver(userEvent("user.created", userId, { updatedAt: t0 }))).json.outcome, "applied");

  const signIn = await deliver(sessionEvent("session.created", userId, { createdAt: t0 + 60_000 }));
  assertEquals([signIn.status, signIn.json.outcome], [200, "applied"]);
  let row = await userRow(userId);
  assertEquals([ms(row.last_sign_in_at), ms(row.last_active_at)], [t0 + 60_000, t0 + 60_000]);

  const ended = await deliver(
    sessionEvent("session.ended", userId, { createdAt: t0 + 60_000, lastActiveAt: t0 + 120_000 }),
  );
  assertEquals(ended.json.outcome, "applied");
  // Late events from before: nothing moves back.
  const lateSignIn = await deliver(sessionEvent("session.created", userId, { createdAt: t0 + 1_000 }));
  assertEquals(lateSignIn.json.outcome, "stale");
  const lateEnd = await deliver(
    sessionEvent("session.removed", userId, { createdAt: t0, lastActiveAt: t0 + 2_000 }),
  );
  assertEquals(lateEnd.json.outcome, "stale");
  row = await userRow(userId);
  assertEquals([ms(row.last_sign_in_at), ms(row.last_active_at)], [t0 + 60_000, t0 + 120_000]);

  const revoked = await deliver(
    sessionEvent("session.revoked", userId, { createdAt: t0, lastActiveAt: t0 + 180_000 }),
  );
  assertEquals(revoked.json.outcome, "applied");
  assertEquals(ms((await userRow(userId)).last_active_at), t0 + 180_000);

  const strangerId = randomUserId("whnone");
  const stranger = await deliver(sessionEvent("session.created", strangerId));
  assertEquals([stranger.status, stranger.json.outcome], [200, "pending"]);
  assertEquals(await userRow(strangerId), undefined);
  const inbox = await inboxRows([stranger.delivery.svixId]);
  assertEquals([inbox[0].clerk_user_id, inbox[0].outcome], [strangerId, "pending"]);
});

// ---------------------------------------------------------------------------------------------
// Deletion and tombstones
// ---------------------------------------------------------------------------------------------

dbTest("delete then late events: the user's rows are gone and nothing resurrects them", async () => {
  const userId = randomUserId("whdel");
  const t0 = Date.now() - 60_000;
  assertEquals((await deliver(userEvent("user.created", userId, { updatedAt: t0 }))).json.outcome, "applied");
  const [project] = await adminSql`
    insert into public.projects (user_id, name) values (${userId}, 'Doomed') returning id`;
  await adminSql`
    insert into public.workspace_tabs (project_id, user_id, position, title, kind)
    values (${project.id}, ${userId}, 0, 'Tab', 'doc')`;

  const deleted = await deliver(userDeletedEvent(userId, t0 + 30_000));
  assertEquals([deleted.status, deleted.json.outcome], [200, "applied"]);
  assertEquals(await userRow(userId), undefined);
  assertEquals(
    (await adminSql`select count(*)::int as n from public.projects where user_id = ${userId}`)[0].n,
    0,
  );
  assertEquals(
    (await adminSql`select count(*)::int as n from public.workspace_tabs where user_id = ${userId}`)[0].n,
    0,
  );
  const [tombstone] =
    await adminSql`select deleted_at from private.clerk_user_tombstones where user_id = ${userId}`;
  assertEquals(ms(tombstone.deleted_at), t0 + 30_000);

  // A late update (newer than anything stored), a retried user.created, a session, a second delete.
  const late = await deliver(userEvent("user.updated", userId, { updatedAt: Date.now() }));
  assertEquals([late.status, late.json.outcome], [200, "tombstoned"]);
  const recreated = await deliver(userEvent("user.created", userId, { updatedAt: t0 }));
  assertEquals([recreated.status, recreated.json.outcome], [200, "tombstoned"]);
  const session = await deliver(sessionEvent("session.created", userId));
  assertEquals([session.status, session.json.outcome], [200, "tombstoned"]);
  const again = await deliver(userDeletedEvent(userId));
  assertEquals([again.status, again.json.outcome], [200, "tombstoned"]);
  assertEquals(await userRow(userId), undefined);

  const inbox = await inboxRows([late, recreated, session, again].map((d) => d.delivery.svixId));
  assertEquals(inbox.map((r) => r.outcome), Array(4).fill("tombstoned"));

  // The API's just-in-time provisioning cannot re-create the user either (still-valid token).
  const me = await call("api", "/me", { headers: await bearer(userId) });
  assertEquals(me.status, 410, me.text);
  assertEquals(await userRow(userId), undefined);
});

dbTest(
  "user.deleted for a user never seen still leaves a tombstone; user.created afterwards is refused",
  async () => {
    const userId = randomUserId("whdel0");
    const deleted = await deliver(userDeletedEvent(userId));
    assertEquals([deleted.status, deleted.json.outcome], [200, "applied"]);
    assert(await isTombstoned(userId));
    const created = await deliver(userEvent("user.created", userId));
    assertEquals(created.json.outcome, "tombstoned");
    assertEquals(await userRow(userId), undefined);
  },
);

dbTest("just-in-time user (GET /api/me) is completed by user.created, not duplicated", async () => {
  const userId = randomUserId("whjit");
  const headers = await bearer(userId, { claims: { email: "token@example.invalid" } });
  const me = await call("api", "/me", { headers });
  assertEquals(me.status, 200, me.text);
  const patched = await call("api", "/me", {
    method: "PATCH",
    headers,
    body: { display_name: "Chosen Name", preferences: { theme: "dark" } },
  });
  assertEquals(patched.status, 200, patched.text);
  await adminSql`update public.users set role = 'support' where id = ${userId}`;
  let row = await userRow(userId);
  assertEquals([row.email, row.clerk_updated_at], ["token@example.invalid", null]);

  const updatedAt = Date.now() - 500;
  const created = await deliver(userEvent("user.created", userId, {
    updatedAt,
    email: "clerk@example.invalid",
    firstName: "Grace",
    lastName: "Hopper",
  }));
  assertEquals([created.status, created.json.outcome], [200, "applied"]);

  const rows = await adminSql`select id from public.users where id = ${userId}`;
  assertEquals(rows.length, 1);
  row = await userRow(userId);
  assertEquals([row.email, row.first_name, row.last_name, ms(row.clerk_updated_at)], [
    "clerk@example.invalid",
    "Grace",
    "Hopper",
    updatedAt,
  ]);
  // Owned by this backend or the user: untouched.
  assertEquals([row.role, row.display_name, row.preferences], ["support", "Chosen Name", { theme: "dark" }]);
});

// ---------------------------------------------------------------------------------------------
// Unknown and malformed events
// ---------------------------------------------------------------------------------------------

dbTest("unknown event type: recorded as ignored and answered 2xx", async () => {
  const event = {
    object: "event",
    type: "organizationMembership.created",
    timestamp: Date.now(),
    instance_id: "ins_dev",
    data: { id: "orgmem_1", public_user_data: { user_id: randomUserId("whorg") } },
  };
  const { status, json, delivery } = await deliver(event);
  assertEquals([status, json.outcome], [200, "ignored"]);
  const inbox = await inboxRows([delivery.svixId]);
  assertEquals(inbox.length, 1);
  assertEquals([inbox[0].event_type, inbox[0].clerk_user_id, inbox[0].outcome], [
    "organizationMembership.created",
    null,
    "ignored",
  ]);
  assertEquals((await send(delivery)).json.outcome, "duplicate");
});

dbTest("malformed known types and bodies: 400, nothing written", async () => {
  const userId = randomUserId("whmal");
  const noUpdatedAt = userEvent("user.updated", userId) as { data: Record<string, unknown> };
  delete noUpdatedAt.data.updated_at;
  // (A primary address that is not listed or not an email is valid for Clerk: accepted with a
  // warning, tests/clerk_sync_test.ts.)
  const cases: [string, unknown][] = [
    ["user.updated without updated_at", noUpdatedAt],
    ["user.created with a non-Clerk id", userEvent("user.created", "usr-123")],
    ["user.deleted without id", { ...userDeletedEvent(userId), data: { deleted: true, object: "user" } }],
    ["session.created without user_id", {
      ...sessionEvent("session.created", userId),
      data: { id: "sess_1" },
    }],
    ["envelope object is not event", { ...userEvent("user.created", userId), object: "user" }],
    ["envelope without type", { object: "event", data: {} }],
    ["not JSON", "{not json"],
    ["JSON but not an object", "[1,2,3]"],
  ];
  for (const [label, event] of cases) {
    const delivery = signDelivery(SECRET, event);
    const response = await send(delivery);
    assertEquals(response.status, 400, `${label}: ${JSON.stringify(response.json)}`);
    assertEquals(response.json.status, 400);
    await assertNothingWritten(delivery.svixId);
  }
  assertEquals(await userRow(userId), undefined);
  assertEquals(await isTombstoned(userId), false);
});

// ---------------------------------------------------------------------------------------------
// Failure modes: the database is unavailable
// ---------------------------------------------------------------------------------------------

dbTest("database down: 503 and nothing written; the same delivery retried applies exactly once", async () => {
  const userId = randomUserId("whdown");
  const delivery = signDelivery(SECRET, userEvent("user.created", userId, { firstName: "Retried" }));
  // A second gateway whose functions point at a closed port: every database call fails to connect.
  const down = await startGateway({ SUPABASE_DB_URL: localDbUrl(1) });
  try {
    const response = await send(delivery, `${down.url}/clerk-webhooks`);
    assertEquals(response.status, 503, JSON.stringify(response.json));
    assertEquals(response.json.title, "Service Unavailable");
  } finally {
    await down.stop();
  }
  await assertNothingWritten(delivery.svixId, userId);

  // Svix retries the very same delivery (same id, body, signature) once the database is back.
  const retried = await send(delivery);
  assertEquals([retried.status, retried.json.outcome], [200, "applied"]);
  const again = await send(delivery);
  assertEquals([again.status, again.json.outcome], [200, "duplicate"]);
  assertEquals((await inboxRows([delivery.svixId])).length, 1);
  assertEquals((await userRow(userId)).first_name, "Retried");
});

dbTest("database lost and back within one process: 503 while unplugged, then applied once", async () => {
  const dbPort = Number(new URL(DB_URL).port || 5432);
  const proxy = new TcpProxy(dbPort);
  proxy.start();
  const gateway = await startGateway({
    SUPABASE_DB_URL: localDbUrl(proxy.port),
  });
  const url = `${gateway.url}/clerk-webhooks`;
  try {
    const warmUserId = randomUserId("whwarm");
    const warm = await send(signDelivery(SECRET, userEvent("user.created", warmUserId)), url);
    assertEquals([warm.status, warm.json.outcome], [200, "applied"]);

    proxy.stop();
    // Wait until the function's pool has closed its connections (seen in the kernel's socket
    // table). A request racing the close can hit a postgres.js write on a closed socket that
    // throws outside any promise and ends the process (reported; Svix would retry into a fresh
    // isolate, so still nothing lost).
    await proxy.clientsClosed();
    const userId = randomUserId("whplug");
    const delivery = signDelivery(SECRET, userEvent("user.created", userId));
    const refused = await send(delivery, url);
    assertEquals(refused.status, 503);
    await assertNothingWritten(delivery.svixId, userId);

    proxy.start();
    const retried = await send(delivery, url);
    assertEquals([retried.status, retried.json.outcome], [200, "applied"]);
    const again = await send(delivery, url);
    assertEquals(again.json.outcome, "duplicate");
    assertEquals((await inboxRows([delivery.svixId])).length, 1);
    assertExists(await userRow(userId));
  } finally {
    await gateway.stop();
    proxy.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Burst (bulk import)
// ---------------------------------------------------------------------------------------------

/** Posts every delivery with `concurrency` requests in flight. */
async function postAll(deliveries: Delivery[], concurrency: number) {
  const answers: { status: number; outcome?: unknown }[] = new Array(deliveries.length);
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const index = next++;
      const { status, json } = await send(deliveries[index]);
      answers[index] = { status, outcome: json?.outcome };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

dbTest(
  "burst: 2,000 distinct events at 32 connections plus 10% duplicates -> 2,000 effects, 2,000 inbox rows",
  async () => {
    const count = 2_000;
    const userIds = Array.from({ length: count }, () => randomUserId("whburst"));
    const deliveries = userIds.map((id) => signDelivery(SECRET, userEvent("user.created", id)));
    const duplicates = Array.from({ length: count / 10 }, (_, i) => deliveries[(i * 7919) % count]);
    const all = [...deliveries, ...duplicates];
    // Shuffle so duplicates race their originals.
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]];
    }
    try {
      const answers = await postAll(all, 32);
      const statuses = new Set(answers.map((a) => a.status));
      assertEquals([...statuses], [200]);
      const outcomes: Record<string, number> = {};
      for (const { outcome } of answers) outcomes[String(outcome)] = (outcomes[String(outcome)] ?? 0) + 1;
      assertEquals(outcomes, { applied: count, duplicate: count / 10 });

      const svixIds = deliveries.map((d) => d.svixId);
      const [inbox] = await adminSql`
      select count(*)::int as rows, count(*) filter (where outcome = 'applied')::int as applied
      from private.clerk_webhook_inbox where svix_id = any(${svixIds})`;
      assertEquals(inbox, { rows: count, applied: count });
      const [users] = await adminSql`
      select count(*)::int as rows,
             count(*) filter (where updated_at <> created_at)::int as rewritten,
             count(*) filter (where email = lower(right(id, 8)) || '@example.invalid')::int as right_email
      from public.users where id = any(${userIds})`;
      assertEquals(users, { rows: count, rewritten: 0, right_email: count });
    } finally {
      await adminSql`delete from public.users where id = any(${userIds})`;
      await adminSql`delete from private.clerk_webhook_inbox where svix_id = any(${
        deliveries.map((d) => d.svixId)
      })`;
    }
  },
);
