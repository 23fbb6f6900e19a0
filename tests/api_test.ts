/**
 * Client API over real HTTP (gateway -> function -> Postgres under RLS).
 * Every test makes its own users; every refusal is checked in the database too.
 */
import { assert, assertEquals, assertExists, assertNotEquals } from "@std/assert";
import { createClient } from "@supabase/supabase-js";
import { exportSPKI, importJWK, SignJWT, UnsecuredJWT } from "jose";
import { adminSql, createUser, randomUserId } from "./_support/db.ts";
import { bearer, tokenFor } from "./_support/auth.ts";
import { call } from "./_support/http.ts";
import { CLERK_ISSUER, DB_URL, FUNCTIONS_URL, GATEWAY_URL } from "./_support/env.ts";
import { devKey, foreignKey } from "../tools/dev_issuer.ts";
import { TcpProxy } from "./_support/tcp_proxy.ts";
import { startGateway } from "./_support/gateway.ts";
import { localDbUrl } from "../tools/settings.ts";

const api = (path: string, options: Parameters<typeof call>[2] = {}) => call("api", path, options);

/** supabase-js, configured the way a client app using Clerk would (third-party auth token). */
function clientFor(token: string) {
  return createClient(GATEWAY_URL, "local-anon-key", { accessToken: () => Promise.resolve(token) });
}

async function newProject(userId: string, name = "Project") {
  const response = await api("/projects", { method: "POST", headers: await bearer(userId), body: { name } });
  assertEquals(response.status, 201, response.text);
  return response.json as { id: string; tabs_version: string };
}

async function projectSnapshot(id: string) {
  const [project] = await adminSql`select * from public.projects where id = ${id}`;
  const tabs = await adminSql`select * from public.workspace_tabs where project_id = ${id} order by position`;
  const [{ count: history }] =
    await adminSql`select count(*)::int from public.workspace_history where project_id = ${id}`;
  return JSON.stringify({ project, tabs, history });
}

Deno.test("health answers without a token; the OpenAPI document lists every route", async () => {
  const health = await api("/health");
  assertEquals(health.status, 200);
  assertEquals(health.json, { status: "ok" });
  const openapi = await api("/openapi.json");
  assertEquals(openapi.status, 200);
  for (
    const path of [
      "/me",
      "/projects",
      "/projects/{id}",
      "/projects/{id}/restore",
      "/projects/{id}/tabs",
      "/projects/{id}/history",
    ]
  ) assertExists(openapi.json.paths[path], path);
  assertEquals(openapi.json.paths["/projects"].post.requestBody.content["application/json"].schema.required, [
    "name",
  ]);
});

Deno.test("client path: supabase-js functions.invoke over every endpoint", async () => {
  const userId = randomUserId("js");
  const client = clientFor(await tokenFor(userId, { claims: { email: "js-user@example.invalid" } }));

  const me = await client.functions.invoke("api/me", { method: "GET" });
  assertEquals(me.error, null);
  assertEquals(me.data.id, userId);
  assertEquals(me.data.email, "js-user@example.invalid");
  assertEquals(me.data.role, "user");

  const patched = await client.functions.invoke("api/me", { method: "PATCH", body: { display_name: "JS" } });
  assertEquals(patched.data.display_name, "JS");

  const created = await client.functions.invoke("api/projects", {
    method: "POST",
    body: { name: "Via supabase-js", metadata: { color: "teal" } },
  });
  assertEquals(created.error, null);
  const projectId = created.data.id;
  assertEquals(created.data.user_id, userId);

  const list = await client.functions.invoke("api/projects", { method: "GET" });
  assertEquals(list.data.data.map((p: { id: string }) => p.id), [projectId]);

  const one = await client.functions.invoke(`api/projects/${projectId}`, { method: "GET" });
  assertEquals(one.data.name, "Via supabase-js");

  const renamed = await client.functions.invoke(`api/projects/${projectId}`, {
    method: "PATCH",
    body: { name: "Renamed", status: "archived" },
  });
  assertEquals([renamed.data.name, renamed.data.status], ["Renamed", "archived"]);

  const tabs = await client.functions.invoke(`api/projects/${projectId}/tabs`, { method: "GET" });
  assertEquals(tabs.data, { data: [], version: "0" });

  const synced = await client.functions.invoke(`api/projects/${projectId}/tabs`, {
    method: "PUT",
    headers: { "if-match": '"0"' },
    body: { tabs: [{ title: "Brief", kind: "brief", metadata: { activeBriefSectionIds: ["a"] } }] },
  });
  assertEquals(synced.error, null);
  assertEquals(synced.data.version, "1");
  assertEquals(synced.data.data[0].position, 0);

  const history = await client.functions.invoke(`api/projects/${projectId}/history`, { method: "GET" });
  assertEquals(history.data.data[0].action, "tab.created");

  const deleted = await client.functions.invoke(`api/projects/${projectId}`, { method: "DELETE" });
  assertEquals(deleted.error, null);
  const restored = await client.functions.invoke(`api/projects/${projectId}/restore`, { method: "POST" });
  assertEquals(restored.data.status, "active");
});

Deno.test("projects: create, read, update, archive, soft delete, restore, over raw fetch", async () => {
  const userId = await createUser();
  const headers = await bearer(userId);
  const created = await api("/projects", {
    method: "POST",
    headers,
    body: { name: "  Spaced  ", description: "d", metadata: { a: 1 } },
  });
  assertEquals(created.status, 201);
  assertEquals(created.json.name, "Spaced");
  // The public URL (with /functions/v1), which leads to the project.
  assertEquals(created.headers.get("location"), `${FUNCTIONS_URL}/api/projects/${created.json.id}`);
  const id = created.json.id;
  const followed = await fetch(created.headers.get("location")!, { headers });
  assertEquals([followed.status, (await followed.json()).id], [200, id]);

  assertEquals((await api(`/projects/${id}`, { headers })).json.description, "d");
  const cleared = await api(`/projects/${id}`, { method: "PATCH", headers, body: { description: null } });
  assertEquals(cleared.json.description, null);
  assertEquals(cleared.json.name, "Spaced");

  assertEquals((await api(`/projects/${id}`, { method: "DELETE", headers })).status, 204);
  assertEquals(
    (await api(`/projects/${id}`, { method: "DELETE", headers })).status,
    204,
    "deleting twice is harmless",
  );
  const [row] = await adminSql`select status, deleted_at from public.projects where id = ${id}`;
  assertEquals(row.status, "deleted");
  assertExists(row.deleted_at);

  // Deleted projects leave the default list but can be listed explicitly.
  assertEquals((await api("/projects", { headers })).json.data.length, 0);
  assertEquals((await api("/projects?status=deleted", { headers })).json.data.length, 1);
  assertEquals((await api(`/projects/${id}`, { method: "PATCH", headers, body: { name: "x" } })).status, 409);

  const restored = await api(`/projects/${id}/restore`, { method: "POST", headers });
  assertEquals(restored.status, 200);
  assertEquals([restored.json.status, restored.json.deleted_at], ["active", null]);
  assertEquals(
    (await api(`/projects/${id}/restore`, { method: "POST", headers })).status,
    409,
    "not deleted",
  );

  // Past the retention window a deleted project cannot come back.
  await api(`/projects/${id}`, { method: "DELETE", headers });
  await adminSql`update public.projects set deleted_at = now() - interval '31 days' where id = ${id}`;
  assertEquals((await api(`/projects/${id}/restore`, { method: "POST", headers })).status, 410);
});

Deno.test("projects list: keyset pagination with an opaque cursor, status filter, limit bounds", async () => {
  const userId = await createUser();
  const headers = await bearer(userId);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await newProject(userId, `P${i}`)).id);
  // Same updated_at for two rows: the id breaks the tie, nothing is skipped or repeated.
  await adminSql`update public.projects set updated_at = '2026-01-01T00:00:00.123456Z' where id in ${
    adminSql([ids[1], ids[2]])
  }`;

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
    const page = await api(`/projects${query}`, { headers });
    assertEquals(page.status, 200);
    assert(page.json.data.length <= 2);
    seen.push(...page.json.data.map((p: { id: string }) => p.id));
    cursor = page.json.next_cursor;
  } while (cursor);
  assertEquals(seen.length, 5);
  assertEquals(new Set(seen).size, 5);
  const expected = await adminSql`
    select id from public.projects where user_id = ${userId} order by updated_at desc, id desc`;
  assertEquals(seen, expected.map((r) => r.id));

  await api(`/projects/${ids[0]}`, { method: "PATCH", headers, body: { status: "archived" } });
  const archived = await api("/projects?status=archived", { headers });
  assertEquals(archived.json.data.map((p: { id: string }) => p.id), [ids[0]]);

  assertEquals((await api("/projects?limit=101", { headers })).status, 400);
  assertEquals((await api("/projects?limit=0", { headers })).status, 400);
  assertEquals((await api("/projects?status=gone", { headers })).status, 400);
  const badCursor = await api("/projects?cursor=bm90LWEtY3Vyc29y", { headers });
  assertEquals(badCursor.status, 400);
  assertEquals(badCursor.json.errors[0].path, "cursor");
  assertEquals((await api("/projects?unknown=1", { headers })).status, 400);
});

Deno.test("me: provisioned just in time once under concurrency; only user-owned fields change", async () => {
  const userId = randomUserId("jit");
  const headers = await bearer(userId, { claims: { email: "jit@example.invalid", first_name: "Jit" } });
  const responses = await Promise.all(Array.from({ length: 8 }, () => api("/me", { headers })));
  for (const response of responses) assertEquals(response.status, 200, response.text);
  const rows = await adminSql`select email, first_name, role from public.users where id = ${userId}`;
  assertEquals(rows.length, 1);
  assertEquals(rows[0].email, "jit@example.invalid");

  for (
    const body of [{ role: "admin" }, { email: "evil@example.invalid" }, { id: "user_other" }, {
      clerk_updated_at: "2030-01-01",
    }]
  ) {
    const refused = await api("/me", { method: "PATCH", headers, body });
    assertEquals(refused.status, 400, JSON.stringify(body));
    assertEquals(refused.headers.get("content-type"), "application/problem+json");
  }
  const [after] = await adminSql`select email, role, id from public.users where id = ${userId}`;
  assertEquals([after.email, after.role], ["jit@example.invalid", "user"]);

  const updated = await api("/me", { method: "PATCH", headers, body: { preferences: { theme: "dark" } } });
  assertEquals(updated.json.preferences, { theme: "dark" });
  assertEquals(updated.json.role, "user");
});

Deno.test("tabs: replace keeps positions dense, requires If-Match, answers 412 when stale", async () => {
  const userId = await createUser();
  const headers = await bearer(userId);
  const { id } = await newProject(userId);
  const path = `/projects/${id}/tabs`;

  const missing = await api(path, { method: "PUT", headers, body: { tabs: [] } });
  assertEquals(missing.status, 428);

  const first = await api(path, {
    method: "PUT",
    headers: { ...headers, "if-match": '"0"' },
    body: { tabs: ["A", "B", "C", "D"].map((title) => ({ title, kind: "notes" })) },
  });
  assertEquals(first.status, 200, first.text);
  assertEquals(first.headers.get("etag"), '"1"');
  const [a, b, c, d] = first.json.data;

  // Reverse, drop B, rename C, add E at the front: create, update, reorder and remove at once.
  const second = await api(path, {
    method: "PUT",
    headers: { ...headers, "if-match": first.headers.get("etag")! },
    body: {
      tabs: [
        { title: "E", kind: "brief" },
        { id: d.id, title: d.title, kind: d.kind },
        { id: c.id, title: "C2", kind: c.kind },
        { id: a.id, title: a.title, kind: a.kind },
      ],
    },
  });
  assertEquals(second.status, 200, second.text);
  assertEquals(second.json.data.map((t: { title: string }) => t.title), ["E", "D", "C2", "A"]);
  const rows =
    await adminSql`select id, position from public.workspace_tabs where project_id = ${id} order by position`;
  assertEquals(rows.map((r) => r.position), [0, 1, 2, 3]);
  assert(!rows.some((r) => r.id === b.id), "B was removed");

  const actions = await adminSql`
    select action, count(*)::int from public.workspace_history where project_id = ${id} group by action`;
  const counts = Object.fromEntries(actions.map((r) => [r.action, r.count]));
  assertEquals(counts["tab.created"], 5);
  assertEquals(counts["tab.deleted"], 1);
  // D and A only moved: one tabs.reordered naming both moves; C was renamed: its own tab.updated.
  assertEquals(counts["tabs.reordered"], 1, JSON.stringify(counts));
  assertEquals(counts["tab.updated"], 1, JSON.stringify(counts));
  assertEquals(counts["tab.moved"], undefined, JSON.stringify(counts));
  const [reorder] = await adminSql`
    select tab_id, diff from public.workspace_history where project_id = ${id} and action = 'tabs.reordered'`;
  assertEquals(reorder.tab_id, null);
  assertEquals(reorder.diff, {
    count: 2,
    moves: [{ tab_id: d.id, from: 3, to: 1 }, { tab_id: a.id, from: 0, to: 3 }],
  });

  const before = await projectSnapshot(id);
  const stale = await api(path, {
    method: "PUT",
    headers: { ...headers, "if-match": '"1"' },
    body: { tabs: [] },
  });
  assertEquals(stale.status, 412);
  assertEquals(stale.headers.get("etag"), '"2"');
  assertEquals(await projectSnapshot(id), before, "a stale write changes nothing");
});

Deno.test("tabs: two concurrent syncs of one version: one wins, the other gets 412, positions stay dense", async () => {
  const userId = await createUser();
  const headers = { ...(await bearer(userId)), "if-match": '"0"' };
  const { id } = await newProject(userId);
  const bodies = [
    { tabs: ["A", "B", "C"].map((title) => ({ title, kind: "notes" })) },
    { tabs: ["X", "Y"].map((title) => ({ title, kind: "notes" })) },
  ];
  const results = await Promise.all(
    bodies.map((body) => api(`/projects/${id}/tabs`, { method: "PUT", headers, body })),
  );
  assertEquals(results.map((r) => r.status).sort(), [200, 412]);
  const winner = results.find((r) => r.status === 200)!;
  const rows =
    await adminSql`select title, position from public.workspace_tabs where project_id = ${id} order by position`;
  assertEquals(rows.map((r) => r.title), winner.json.data.map((t: { title: string }) => t.title));
  assertEquals(rows.map((r) => r.position), rows.map((_, i) => i));
  const [{ tabs_version }] = await adminSql`select tabs_version::int from public.projects where id = ${id}`;
  assertEquals(tabs_version, 1);
});

Deno.test("cross-tenant: another user's project is a 404 on every endpoint and nothing changes", async () => {
  const owner = await createUser();
  const stranger = await createUser();
  const { id } = await newProject(owner, "Owner's");
  await api(`/projects/${id}/tabs`, {
    method: "PUT",
    headers: { ...(await bearer(owner)), "if-match": '"0"' },
    body: { tabs: [{ title: "Secret", kind: "notes" }] },
  });
  const before = await projectSnapshot(id);
  const headers = await bearer(stranger);
  const attempts: [string, string, unknown?, Record<string, string>?][] = [
    ["GET", `/projects/${id}`],
    ["PATCH", `/projects/${id}`, { name: "pwned" }],
    ["DELETE", `/projects/${id}`],
    ["POST", `/projects/${id}/restore`],
    ["GET", `/projects/${id}/tabs`],
    ["PUT", `/projects/${id}/tabs`, { tabs: [] }, { "if-match": '"1"' }],
    ["GET", `/projects/${id}/history`],
  ];
  for (const [method, path, body, extra] of attempts) {
    const response = await api(path, { method, headers: { ...headers, ...extra }, body });
    assertEquals(response.status, 404, `${method} ${path}: ${response.text}`);
  }
  const list = await api("/projects", { headers });
  assertEquals(list.json.data.length, 0);
  // A stranger cannot adopt the owner's tab ids into their own project either: the id names a new
  // tab of the stranger's own project, answered exactly like an unused uuid (issue 11: a 409 here
  // told the stranger that the owner's tab exists).
  const [ownerTab] = await adminSql`select id from public.workspace_tabs where project_id = ${id}`;
  const answers = [];
  for (const tabId of [ownerTab.id as string, crypto.randomUUID()]) {
    const own = await newProject(stranger);
    const put = await api(`/projects/${own.id}/tabs`, {
      method: "PUT",
      headers: { ...headers, "if-match": '"0"' },
      body: { tabs: [{ id: tabId, title: "Mine now", kind: "notes" }] },
    });
    answers.push({
      status: put.status,
      etag: put.headers.get("etag"),
      ids: put.json.data.map((tab: { id: string }) => tab.id === tabId),
      keys: Object.keys(put.json.data[0]).sort(),
    });
  }
  assertEquals(answers[0], answers[1], "another user's tab id and an unused uuid get the same answer");
  assertEquals(answers[0].status, 200);
  assertEquals(await projectSnapshot(id), before);
});

Deno.test("JWT matrix: every forged, expired or misdirected token is a 401 and changes nothing", async () => {
  const victim = randomUserId("jwt");
  const key = await devKey();
  const now = Math.floor(Date.now() / 1000);
  const valid = await tokenFor(victim);
  const [header, payload, signature] = valid.split(".");
  const altered = JSON.parse(atob(payload.replaceAll("-", "+").replaceAll("_", "/")));
  altered.sub = randomUserId("other");
  const alteredPayload = btoa(JSON.stringify(altered)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
  const publicPem = await exportSPKI(await importJWK(key.publicJwk, "RS256") as CryptoKey);
  const hs256 = await new SignJWT({ sub: victim })
    .setProtectedHeader({ alg: "HS256", kid: key.kid })
    .setIssuer(CLERK_ISSUER).setIssuedAt().setExpirationTime("1h")
    .sign(new TextEncoder().encode(publicPem));
  const none = new UnsecuredJWT({ sub: victim }).setIssuer(CLERK_ISSUER).setIssuedAt().setExpirationTime("1h")
    .encode();

  const cases: Record<string, string | undefined> = {
    "no token": undefined,
    "malformed": "Bearer not-a-jwt",
    "alg none": `Bearer ${none}`,
    "HS256 signed with the RSA public key": `Bearer ${hs256}`,
    "unknown kid": `Bearer ${await tokenFor(victim, { key: await foreignKey() })}`,
    "expired": `Bearer ${await tokenFor(victim, { now: now - 3600, expiresIn: 60 })}`,
    "nbf in the future": `Bearer ${await tokenFor(victim, { now: now + 600 })}`,
    "wrong issuer": `Bearer ${await tokenFor(victim, { issuer: "https://evil.example.com" })}`,
    "azp not allowed": `Bearer ${await tokenFor(victim, { azp: "https://evil.example.com" })}`,
    "missing sub": `Bearer ${await tokenFor(undefined)}`,
    "sub not a Clerk user id": `Bearer ${await tokenFor("00000000-0000-0000-0000-000000000000")}`,
    "payload altered after signing": `Bearer ${header}.${alteredPayload}.${signature}`,
    "basic scheme": `Basic ${btoa("user:pass")}`,
  };
  for (const [name, authorization] of Object.entries(cases)) {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const response = await api("/projects", { method: "POST", headers, body: { name: name } });
    assertEquals(response.status, 401, `${name}: ${response.text}`);
    assertEquals(response.json.title, "Unauthorized");
    assertEquals((await api("/me", { headers })).status, 401, name);
  }
  const [{ count }] = await adminSql`
    select count(*)::int from public.users where id in (${victim}, ${altered.sub})`;
  assertEquals(count, 0, "no user row was provisioned by a rejected token");
});

Deno.test("a validly signed token claiming role service_role still sees only its own rows", async () => {
  const owner = await createUser();
  await newProject(owner, "not yours");
  const attacker = await createUser();
  const mine = await newProject(attacker, "mine");
  const headers = await bearer(attacker, { claims: { role: "service_role" } });
  const list = await api("/projects", { headers });
  assertEquals(list.status, 200);
  assertEquals(list.json.data.map((p: { id: string }) => p.id), [mine.id]);
  const me = await api("/me", { headers });
  assertEquals(me.json.role, "user");
});

Deno.test("bad bodies: 4xx with a reason, and nothing changes", async () => {
  const userId = await createUser();
  const headers = await bearer(userId);
  const { id } = await newProject(userId);
  const before = await projectSnapshot(id);
  const tabs = `/projects/${id}/tabs`;
  const put = { ...headers, "if-match": '"0"' };
  const cases: [string, string, string, Parameters<typeof call>[2], number][] = [
    ["oversize", "PATCH", `/projects/${id}`, { headers, body: { description: "x".repeat(300_000) } }, 413],
    ["wrong content type", "PATCH", `/projects/${id}`, {
      headers: { ...headers, "content-type": "text/plain" },
      body: "name=x",
    }, 415],
    ["invalid JSON", "PATCH", `/projects/${id}`, { headers, body: '{"name": ' }, 400],
    ["wrong type", "PATCH", `/projects/${id}`, { headers, body: { name: 42 } }, 400],
    ["empty name", "PATCH", `/projects/${id}`, { headers, body: { name: "   " } }, 400],
    ["unknown field", "PATCH", `/projects/${id}`, { headers, body: { name: "x", user_id: "user_x" } }, 400],
    ["status deleted via PATCH", "PATCH", `/projects/${id}`, { headers, body: { status: "deleted" } }, 400],
    ["metadata not an object", "PATCH", `/projects/${id}`, { headers, body: { metadata: [1, 2] } }, 400],
    ["not a uuid", "GET", `/projects/not-a-uuid`, { headers }, 400],
    ["huge tab array", "PUT", tabs, {
      headers: put,
      body: { tabs: Array.from({ length: 201 }, (_, i) => ({ title: `T${i}`, kind: "notes" })) },
    }, 400],
    ["duplicate tab ids", "PUT", tabs, {
      headers: put,
      body: {
        tabs: [1, 2].map(() => ({ id: "8d3c5a5e-8d7f-4b52-9c39-2f0b8f1b2c11", title: "T", kind: "notes" })),
      },
    }, 400],
    ["bad activeBriefSectionIds", "PUT", tabs, {
      headers: put,
      body: { tabs: [{ title: "T", kind: "notes", metadata: { activeBriefSectionIds: [1] } }] },
    }, 400],
    ["bad kind", "PUT", tabs, { headers: put, body: { tabs: [{ title: "T", kind: "Not A Slug" }] } }, 400],
    ["bad If-Match", "PUT", tabs, { headers: { ...headers, "if-match": "abc" }, body: { tabs: [] } }, 412],
  ];
  for (const [name, method, path, options, status] of cases) {
    const response = await api(path, { ...options, method });
    assertEquals(response.status, status, `${name}: ${response.text}`);
    assertEquals(response.headers.get("content-type"), "application/problem+json", name);
    assertExists(response.json.detail, name);
  }
  const fieldErrors = await api(`/projects/${id}`, {
    method: "PATCH",
    headers,
    body: { name: 42, extra: true },
  });
  assert(fieldErrors.json.errors.length >= 2, fieldErrors.text);
  assertEquals(await projectSnapshot(id), before);
});

Deno.test("request ids are echoed or generated; unknown routes are problem+json 404s", async () => {
  const echoed = await api("/health", { headers: { "x-request-id": "req-123" } });
  assertEquals(echoed.headers.get("x-request-id"), "req-123");
  const generated = await api("/health", { headers: { "x-request-id": "bad id with spaces" } });
  assertNotEquals(generated.headers.get("x-request-id"), "bad id with spaces");
  // Deny by default: without a token an unknown path is a 401 like every non-public route.
  assertEquals((await api("/nope")).status, 401);
  const missing = await api("/nope", { headers: await bearer(randomUserId()) });
  assertEquals(missing.status, 404);
  assertEquals(missing.headers.get("content-type"), "application/problem+json");
});

Deno.test("CORS: configured origins get headers, others do not", async () => {
  const allowed = await api("/projects", {
    method: "OPTIONS",
    headers: { origin: "http://localhost:3000", "access-control-request-method": "PUT" },
  });
  assertEquals(allowed.headers.get("access-control-allow-origin"), "http://localhost:3000");
  const other = await api("/projects", {
    method: "OPTIONS",
    headers: { origin: "https://evil.example.com", "access-control-request-method": "PUT" },
  });
  assertEquals(other.headers.get("access-control-allow-origin"), null);
});

Deno.test({
  name: "database down: quick 503s, then the same process serves again once it is back",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const proxy = new TcpProxy(
      Number(new URL(DB_URL).port || 5432),
    );
    proxy.start();
    const gateway = await startGateway({
      SUPABASE_DB_URL: localDbUrl(proxy.port),
    });
    try {
      const userId = await createUser();
      const headers = await bearer(userId);
      const direct = (path: string, init: RequestInit = {}) => fetch(`${gateway.url}/api${path}`, init);

      let response = await direct("/projects", { headers });
      assertEquals(response.status, 200);
      await response.body?.cancel();

      proxy.stop();
      for (
        const [path, init] of [["/health", {}], ["/projects", { headers }], ["/projects", {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify({ name: "while down" }),
        }]] as [string, RequestInit][]
      ) {
        const started = performance.now();
        response = await direct(path, init);
        const elapsed = performance.now() - started;
        assertEquals(response.status, 503, path);
        assertEquals(response.headers.get("retry-after"), "1");
        const body = await response.json();
        assertEquals(body.title, "Service Unavailable");
        assert(!JSON.stringify(body).includes("ECONNREFUSED"), "no internals in the body");
        assert(elapsed < 5_000, `${path} took ${elapsed} ms`);
      }
      const [{ count }] = await adminSql`select count(*)::int from public.projects where user_id = ${userId}`;
      assertEquals(count, 0, "nothing written while down");

      proxy.start();
      response = await direct("/health");
      assertEquals(response.status, 200);
      await response.body?.cancel();
      response = await direct("/projects", {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ name: "after recovery" }),
      });
      assertEquals(response.status, 201);
      await response.body?.cancel();
    } finally {
      await gateway.stop();
      proxy.stop();
    }
  },
});
