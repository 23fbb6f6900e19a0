/**
 * Keyset pagination over HTTP on every paginated route (GET /api/projects, /privacy/requests,
 * /admin/audit, /api/projects/:id/history): rows sharing one timestamp to the microsecond and rows
 * within one millisecond are each returned exactly once whatever the page size, and a cursor that
 * does not decode into real values (month 13, 30 February, hour 99, a bigint overflow, anything
 * the API did not write) is a 400 problem that changes nothing.
 */
import { assert, assertEquals } from "@std/assert";
import { adminSql, createUser } from "./_support/db.ts";
import { bearer } from "./_support/auth.ts";
import { call } from "./_support/http.ts";

/** Follows next_cursor from the first page to the last; returns every id in order. */
async function pageThrough(
  fn: string,
  path: string,
  headers: Record<string, string>,
  limit: number,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const separator = path.includes("?") ? "&" : "?";
    const url: string = `${path}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
    const response = await call(fn, url, { headers });
    assertEquals(response.status, 200, response.text);
    assert(response.json.data.length <= limit);
    ids.push(...response.json.data.map((row: { id: string }) => row.id));
    cursor = response.json.next_cursor;
    if (!cursor) return ids;
  }
  throw new Error("more than 100 pages");
}

const cursorOf = (values: unknown) =>
  btoa(JSON.stringify(values)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** Cursors that decode but name no real position. */
const FORGED_INSTANTS = [
  "2026-13-01T00:00:00.000000Z",
  "2026-02-30T00:00:00.000000Z",
  "2026-01-01T99:00:00.000000Z",
  "0000-01-01T00:00:00.000000Z",
  "2026-01-01 00:00:00+99",
  "9999999999999999999",
  "infinity",
  "now",
];

async function assertForgedCursorsRefused(
  fn: string,
  path: string,
  headers: Record<string, string>,
  id: string,
) {
  const cursors = [
    ...FORGED_INSTANTS.map((instant) => cursorOf([instant, id])),
    cursorOf(["2026-01-01T00:00:00.000000Z"]),
    cursorOf([1, 2]),
    cursorOf({}),
    "not-base64-json",
    "A".repeat(600),
  ];
  for (const cursor of cursors) {
    const response = await call(fn, `${path}${path.includes("?") ? "&" : "?"}cursor=${cursor}`, { headers });
    assertEquals(response.status, 400, `${cursor}: ${response.text}`);
    assertEquals(response.headers.get("content-type"), "application/problem+json");
  }
}

Deno.test("projects: 3 updated within one millisecond and 4 sharing one microsecond page exactly once", async () => {
  const userId = await createUser();
  const headers = await bearer(userId);
  const base = "2026-06-01T12:00:00.000";
  const instants = ["100", "200", "300", "500", "500", "500", "500"].map((micros) => `${base}${micros}Z`);
  for (const [index, at] of instants.entries()) {
    await adminSql`
      insert into public.projects (user_id, name, created_at, updated_at, last_active_at)
      values (${userId}, ${`p${index}`}, ${at}::text::timestamptz, ${at}::text::timestamptz, ${at}::text::timestamptz)`;
  }
  const expected = (await adminSql`
    select id from public.projects where user_id = ${userId} order by updated_at desc, id desc`).map((row) =>
    row.id
  );
  assertEquals(expected.length, 7);
  for (const limit of [1, 2, 3, 100]) {
    assertEquals(await pageThrough("api", "/projects", headers, limit), expected, `limit=${limit}`);
  }
  await assertForgedCursorsRefused("api", "/projects", headers, expected[0]);
  // An id that is not a uuid, in a cursor with a real instant.
  const response = await call("api", `/projects?cursor=${cursorOf([`${base}100Z`, "42"])}`, { headers });
  assertEquals(response.status, 400);
});

Deno.test("admin audit: 5 entries of one transaction page exactly once with limit 1 and 2", async () => {
  const staffId = await createUser("admin");
  const headers = await bearer(staffId);
  const requestId = `paging-${crypto.randomUUID()}`;
  await adminSql.begin(async (sql) => {
    await sql`select set_config('request.id', ${requestId}, true)`;
    for (let i = 0; i < 5; i++) {
      await sql`select audit.append('test.paging', 'public', 'projects', ${String(i)}, '{}'::jsonb)`;
    }
  });
  const expected = (await adminSql`
    select id::text from audit.log where request_id = ${requestId} order by occurred_at desc, id desc`).map((
    row,
  ) => row.id);
  assertEquals(expected.length, 5);
  const [{ distinct }] = await adminSql`
    select count(distinct occurred_at)::int as distinct from audit.log where request_id = ${requestId}`;
  assertEquals(distinct, 1, "one transaction, one timestamp");
  for (const limit of [1, 2, 5]) {
    assertEquals(await pageThrough("admin", `/audit?request_id=${requestId}`, headers, limit), expected);
  }
  await assertForgedCursorsRefused("admin", `/audit?request_id=${requestId}`, headers, expected[0]);
  const overflow = await call(
    "admin",
    `/audit?cursor=${cursorOf(["2026-01-01T00:00:00.000000Z", "9999999999999999999"])}`,
    {
      headers,
    },
  );
  assertEquals(overflow.status, 400, overflow.text);
});

Deno.test("admin audit: from/to must be real instants (year 0000, month 13 are 400, nothing recorded)", async () => {
  const staffId = await createUser("admin");
  const headers = await bearer(staffId);
  const [{ before }] = await adminSql`select count(*)::int as before from audit.log where actor = ${staffId}`;
  for (
    const bad of [
      "from=0000-01-01T00:00:00Z",
      "from=2026-13-01T00:00:00Z",
      "to=2026-02-30T00:00:00Z",
      "to=2026-01-01T24:00:00Z",
      "from=2026-01-01T00:00:00%2B16:00",
      "actor=%00",
      "target_table=projects&target_id=a%00b",
    ]
  ) {
    const response = await call("admin", `/audit?${bad}`, { headers });
    assertEquals(response.status, 400, `${bad}: ${response.text}`);
  }
  const [{ after }] = await adminSql`select count(*)::int as after from audit.log where actor = ${staffId}`;
  assertEquals(after, before, "a refused search is not recorded");
  const good = await call(
    "admin",
    "/audit?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59.999999Z&limit=1",
    {
      headers,
    },
  );
  assertEquals(good.status, 200, good.text);
});

Deno.test("privacy requests: 6 received in one instant page exactly once", async () => {
  const userId = await createUser();
  const headers = await bearer(userId);
  const at = "2026-06-01T12:00:00.000123Z";
  await adminSql`
    insert into privacy.requests (kind, subject_user_id, requested_as, requester_user_id, status, received_at)
    select 'export', ${userId}, 'subject', ${userId}, 'received', ${at}::text::timestamptz
      from generate_series(1, 6)`;
  const expected = (await adminSql`
    select id from privacy.requests where subject_user_id = ${userId} order by received_at desc, id desc`)
    .map((
      row,
    ) => row.id);
  assertEquals(expected.length, 6);
  for (const limit of [1, 2, 4]) {
    assertEquals(await pageThrough("privacy", "/requests", headers, limit), expected, `limit=${limit}`);
  }
  await assertForgedCursorsRefused("privacy", "/requests", headers, expected[0]);
});

Deno.test("project history: an id cursor past bigint is a 400", async () => {
  const userId = await createUser();
  const headers = await bearer(userId);
  const created = await call("api", "/projects", { method: "POST", headers, body: { name: "h" } });
  assertEquals(created.status, 201);
  for (
    const cursor of [cursorOf(["9999999999999999999"]), cursorOf(["0"]), cursorOf(["-1"]), cursorOf([7])]
  ) {
    const response = await call("api", `/projects/${created.json.id}/history?cursor=${cursor}`, { headers });
    assertEquals(response.status, 400, response.text);
  }
  const ok = await call(
    "api",
    `/projects/${created.json.id}/history?cursor=${cursorOf(["9223372036854775807"])}`,
    {
      headers,
    },
  );
  assertEquals(ok.status, 200, ok.text);
});

Deno.test("forged cursors never reach the database: 30 in a row, then the pool still serves at once", async () => {
  // Before: each impossible instant made postgres.js throw inside its protocol handler; with
  // prepared statements (the gateway's default) about five such requests wedged the pool.
  const userId = await createUser();
  const staffId = await createUser("admin");
  const headers = await bearer(userId);
  const staff = await bearer(staffId);
  const forged = cursorOf(["2026-02-30T25:61:00.000000Z", crypto.randomUUID()]);
  const responses = await Promise.all(
    Array.from(
      { length: 30 },
      (_, i) =>
        i % 3 === 0
          ? call("api", `/projects?cursor=${forged}`, { headers })
          : i % 3 === 1
          ? call("privacy", `/requests?cursor=${forged}`, { headers })
          : call("admin", `/audit?cursor=${cursorOf(["2026-13-01T00:00:00.000000Z", "1"])}`, {
            headers: staff,
          }),
    ),
  );
  for (const response of responses) assertEquals(response.status, 400, response.text);
  const started = performance.now();
  const page = await call("api", "/projects?limit=1", { headers });
  assertEquals(page.status, 200, page.text);
  assert(performance.now() - started < 5_000, "answered without waiting for a wedged connection");
});
