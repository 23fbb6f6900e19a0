/**
 * The bad-input classes of issue 11, each named, over HTTP: a NUL character in any text field, key
 * or value; JSON nested ~29k arrays deep inside the body limit; numbers out of range; bodies that
 * are not JSON. Each is a 4xx problem and changes nothing (checked in the database). Plus the
 * mapping rules themselves: SQLSTATEs a check might miss are 4xx, and a SyntaxError that is not
 * about a request body is a 500 (a bug), not a 400.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { adminSql, createUser } from "./_support/db.ts";
import { bearer } from "./_support/auth.ts";
import { call } from "./_support/http.ts";
import { HttpError, toHttpError } from "../supabase/functions/_shared/errors.ts";
import { jsonDepth, parseJsonBody, unstorableValues } from "../supabase/functions/_shared/body.ts";

/** Everything a user owns or caused, to prove a refusal changed nothing. */
async function snapshot(userId: string): Promise<string> {
  const [users, projects, tabs, history, requests, audit] = await Promise.all([
    adminSql`select * from public.users where id = ${userId}`,
    adminSql`select * from public.projects where user_id = ${userId} order by id`,
    adminSql`select * from public.workspace_tabs where user_id = ${userId} order by id`,
    adminSql`select count(*)::int from public.workspace_history where user_id = ${userId}`,
    adminSql`select * from privacy.requests where subject_user_id = ${userId} order by id`,
    adminSql`select count(*)::int from audit.log where actor = ${userId}`,
  ]);
  return JSON.stringify({ users, projects, tabs, history, requests, audit });
}

async function assertRefused(
  userId: string,
  fn: string,
  path: string,
  options: Parameters<typeof call>[2],
  expected = 400,
) {
  const before = await snapshot(userId);
  const response = await call(fn, path, options);
  const what = `${options?.method ?? "GET"} /${fn}${path.slice(0, 120)}`;
  assertEquals(response.status, expected, `${what}: ${response.text.slice(0, 300)}`);
  assertEquals(response.headers.get("content-type"), "application/problem+json", what);
  assertEquals(await snapshot(userId), before, `${what} changed something`);
  return response;
}

const NUL = "\u0000";
const deepArrays = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

Deno.test("a NUL character in any text field, key or value is a 400 that changes nothing", async () => {
  const userId = await createUser();
  const staffId = await createUser("admin");
  const headers = await bearer(userId);
  const staff = await bearer(staffId);
  const created = await call("api", "/projects", { method: "POST", headers, body: { name: "p" } });
  assertEquals(created.status, 201);
  const projectId = created.json.id;
  const tabs = await call("api", `/projects/${projectId}/tabs`, { headers });
  const ifMatch = { ...headers, "if-match": tabs.headers.get("etag")! };

  const cases: [string, string, Parameters<typeof call>[2]][] = [
    ["api", "/me", { method: "PATCH", headers, body: { display_name: `a${NUL}b` } }],
    ["api", "/me", { method: "PATCH", headers, body: { preferences: { theme: `dark${NUL}` } } }],
    ["api", "/me", { method: "PATCH", headers, body: { preferences: { [`k${NUL}`]: 1 } } }],
    ["api", "/projects", { method: "POST", headers, body: { name: `n${NUL}` } }],
    ["api", "/projects", { method: "POST", headers, body: { name: "n", description: NUL } }],
    ["api", "/projects", { method: "POST", headers, body: { name: "n", metadata: { a: [{ b: NUL }] } } }],
    ["api", `/projects/${projectId}`, { method: "PATCH", headers, body: { name: `x${NUL}` } }],
    ["api", `/projects/${projectId}`, { method: "PATCH", headers, body: { metadata: { [NUL]: true } } }],
    ["api", `/projects/${projectId}/tabs`, {
      method: "PUT",
      headers: ifMatch,
      body: { tabs: [{ title: `t${NUL}`, kind: "notes" }] },
    }],
    ["api", `/projects/${projectId}/tabs`, {
      method: "PUT",
      headers: ifMatch,
      body: { tabs: [{ title: "t", kind: "notes", metadata: { activeBriefSectionIds: [NUL] } }] },
    }],
    // An unpaired surrogate is no text either (jsonb refuses it; text would silently change it).
    ["api", "/projects", { method: "POST", headers, body: '{"name": "a\\ud800"}' }],
    ["privacy", "/requests", { method: "POST", headers, body: { kind: "export", reason: `r${NUL}` } }],
    ["api", `/projects?cursor=a%00`, { headers }],
    ["api", `/projects?status=active%00`, { headers }],
    ["admin", `/audit?actor=user_x%00`, { headers: staff }],
    ["admin", `/audit?target_table=projects&target_id=a%00b`, { headers: staff }],
    ["admin", `/audit?%00=1`, { headers: staff }],
    ["privacy", `/requests?subject_user_id=user_a%00`, { headers }],
  ];
  for (const [fn, path, options] of cases) {
    const who = options?.headers === staff ? staffId : userId;
    await assertRefused(who, fn, path, options);
  }
});

Deno.test("JSON nested ~29k arrays deep inside the body limit is a 400, not a stack overflow", async () => {
  const userId = await createUser();
  const headers = await bearer(userId);
  const created = await call("api", "/projects", { method: "POST", headers, body: { name: "deep" } });
  const projectId = created.json.id;
  const tabs = await call("api", `/projects/${projectId}/tabs`, { headers });
  const ifMatch = { ...headers, "if-match": tabs.headers.get("etag")! };
  const deep = deepArrays(29_000);
  assert(deep.length < 262_144, "inside the default body limit");
  const bodies: [string, string, string, Record<string, string>][] = [
    [
      "PUT",
      `/projects/${projectId}/tabs`,
      `{"tabs":[{"title":"t","kind":"notes","metadata":{"x":${deep}}}]}`,
      ifMatch,
    ],
    ["POST", "/projects", `{"name":"n","metadata":{"x":${deep}}}`, headers],
    ["PATCH", `/projects/${projectId}`, `{"metadata":{"x":${deep}}}`, headers],
    ["PATCH", "/me", `{"preferences":{"x":${deep}}}`, headers],
    ["POST", "/projects", deep, headers],
    ["POST", "/projects", '{"a":'.repeat(20_000) + "1" + "}".repeat(20_000), headers],
  ];
  for (const [method, path, body, requestHeaders] of bodies) {
    const response = await assertRefused(userId, "api", path, { method, headers: requestHeaders, body });
    assert(/nested deeper/.test(response.json.detail), response.text);
  }
  // At the limit it is still a document (64 levels).
  const atLimit = `{"name":"n","metadata":{"x":${deepArrays(62)}}}`;
  const ok = await call("api", "/projects", { method: "POST", headers, body: atLimit });
  assertEquals(ok.status, 201, ok.text);
});

Deno.test("numbers out of range and bodies that are not JSON: 4xx, nothing changed", async () => {
  const userId = await createUser();
  const headers = await bearer(userId);
  const created = await call("api", "/projects", { method: "POST", headers, body: { name: "n" } });
  const projectId = created.json.id;
  for (
    const path of [
      "/projects?limit=9999999999999999999",
      "/projects?limit=1e400",
      `/projects/${projectId}/history?limit=-1`,
    ]
  ) {
    await assertRefused(userId, "api", path, { headers });
  }
  await assertRefused(userId, "privacy", "/requests", {
    method: "POST",
    headers,
    body: '{"kind":"erasure","grace_hours":9999999999999999999}',
  });
  // If-Match beyond bigint.
  await assertRefused(userId, "api", `/projects/${projectId}/tabs`, {
    method: "PUT",
    headers: { ...headers, "if-match": '"99999999999999999999"' },
    body: { tabs: [] },
  }, 412);
  for (const body of ["{", "nul", '{"name": "a",}', '{"name":"a\u0000"}', ""]) {
    const response = await assertRefused(userId, "api", "/projects", { method: "POST", headers, body });
    assertEquals(response.json.detail, "the body is not valid JSON", JSON.stringify(body));
  }
  // Not JSON's encoding (UTF-8 without a byte-order mark, RFC 8259 sec. 8.1): the body is decoded
  // strictly, so neither is quietly repaired into a body a schema might accept.
  const bom = await assertRefused(userId, "api", "/projects", { method: "POST", headers, body: "\ufeff{}" });
  assertEquals(bom.json.detail, "the body is not valid JSON");
  const badBytes = new Uint8Array([
    ...new TextEncoder().encode('{"name":"a'),
    0xff,
    0xfe,
    ...new TextEncoder().encode('"}'),
  ]);
  const utf8 = await assertRefused(userId, "api", "/projects", { method: "POST", headers, body: badBytes });
  assertEquals(utf8.json.detail, "the body is not valid UTF-8");
  // Where `{}` is a valid body (defaults), a BOM in front of it is still refused.
  const admin = await createUser("admin", "hb");
  const adminHeaders = await bearer(admin);
  await assertRefused(admin, "privacy", "/erasures/run", {
    method: "POST",
    headers: adminHeaders,
    body: "\ufeff{}",
  });
});

Deno.test("mapping: SQLSTATEs of refused input are 4xx; a SyntaxError outside body parsing is a 500", () => {
  const pg = (code: string) => Object.assign(new Error("from postgres"), { code, severity: "ERROR" });
  assertEquals(toHttpError(pg("22021")).status, 400);
  assertEquals(toHttpError(pg("22P05")).status, 400);
  assertEquals(toHttpError(pg("22003")).status, 422);
  assertEquals(toHttpError(pg("22008")).status, 400);
  assertEquals(toHttpError(pg("22007")).status, 400);
  assertEquals(toHttpError(pg("54001")).status, 400);
  // A server bug that happens to be a SyntaxError (e.g. JSON.parse of a stored value) is a 500.
  assertEquals(toHttpError(new SyntaxError("Unexpected token")).status, 500);
  assertEquals(toHttpError(new RangeError("Maximum call stack size exceeded")).status, 500);
  // Body parsing throws its own 400.
  const error = assertThrows(() => parseJsonBody("{"), HttpError);
  assertEquals(error.status, 400);
  assertEquals(parseJsonBody("  ", { empty: {} }), {});
});

Deno.test("body checks: depth is measured without recursion, strings inside strings do not count", () => {
  assertEquals(jsonDepth('{"a":"[[[[[[","b":[1,{"c":"\\"]]]"}]}'), 3);
  assertEquals(jsonDepth(deepArrays(1_000_000), 64), 65, "stops early");
  assertEquals(unstorableValues({ a: ["ok", { b: "x\u0000" }] }), [{
    path: "a.1.b",
    message: "must not contain a NUL character (\\u0000)",
  }]);
  assertEquals(unstorableValues({ "k\u0000": 1 })[0].path, "k\u0000");
  assertEquals(unstorableValues(JSON.parse(deepArrays(50_000))), [], "iterative: no stack overflow");
});
