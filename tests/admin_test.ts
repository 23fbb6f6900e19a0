/**
 * The admin function's audit endpoints over HTTP: the permission matrix (anon, user, support,
 * admin; staff status from the database, never from a token claim), the filters, keyset
 * pagination, bad input (a clear 400 that records nothing), and verification, including from a
 * checkpoint. Fixture entries use a random action domain per run, so the shared log's other
 * entries never interfere.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "@std/assert";
import { adminSql, createUser, randomUserId } from "./_support/db.ts";
import { bearer, tokenFor } from "./_support/auth.ts";
import { call } from "./_support/http.ts";

function dbTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

const ENDPOINTS = ["/audit", "/audit/verify"];

/** A random action domain (`t<hex>`) owned by one test. */
function domain(): string {
  return `t${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** Appends an entry as the given staff member (actor = their Clerk id), like an admin route would. */
async function appendAs(
  actor: string,
  action: string,
  target: { schema?: string; table?: string; id?: string } = {},
  details: Record<string, unknown> = {},
): Promise<string> {
  return await adminSql.begin(async (tx) => {
    // Fixture: entries in a staff member's name with any action, which no API role may write
    // (audit.append is not granted to authenticated); granted inside this transaction only.
    await tx`grant execute on function audit.append(text, text, text, text, jsonb) to authenticated`;
    await tx`select set_config('role', 'authenticated', true),
                    set_config('request.jwt.claims', ${
      JSON.stringify({ sub: actor, role: "authenticated" })
    }, true)`;
    const [{ id }] = await tx`
      select audit.append(${action}, ${target.schema ?? null}, ${target.table ?? null}, ${target.id ?? null},
                          ${tx.json(details as Record<string, never>)}::jsonb)::text as id`;
    await tx`reset role`;
    await tx`revoke execute on function audit.append(text, text, text, text, jsonb) from authenticated`;
    return id as string;
  });
}

async function searchesBy(staff: string): Promise<number> {
  const [{ n }] =
    await adminSql`select count(*)::int as n from audit.log where actor = ${staff} and action = 'audit.searched'`;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Permission matrix
// ---------------------------------------------------------------------------------------------

dbTest("anon: no token, a malformed token or a token from another issuer is a 401", async () => {
  const foreign = await tokenFor(randomUserId("an"), { issuer: "https://evil.example.com" });
  for (const path of ENDPOINTS) {
    assertEquals((await call("admin", path)).status, 401, `${path} without a token`);
    assertEquals((await call("admin", path, { headers: { authorization: "Bearer nope" } })).status, 401);
    assertEquals(
      (await call("admin", path, { headers: { authorization: `Bearer ${foreign}` } })).status,
      401,
    );
  }
});

dbTest("user: a signed-in non-staff user gets 403, even with a forged role claim", async () => {
  const user = await createUser("user", "au");
  const unknown = randomUserId("an"); // no users row at all
  for (const path of ENDPOINTS) {
    const plain = await call("admin", path, { headers: await bearer(user) });
    assertEquals(plain.status, 403, `${path} as a user`);
    assertEquals(plain.headers.get("content-type"), "application/problem+json");
    const forged = await call("admin", path, { headers: await bearer(user, { claims: { role: "admin" } }) });
    assertEquals(forged.status, 403, `${path} with role: admin in the token`);
    assertEquals(
      (await call("admin", path, { headers: await bearer(unknown) })).status,
      403,
      `${path} unknown user`,
    );
  }
});

dbTest("support and admin: both staff roles may search and verify", async () => {
  for (const role of ["support", "admin"] as const) {
    const staff = await createUser(role, "as");
    const list = await call("admin", "/audit?limit=1", { headers: await bearer(staff) });
    assertEquals(list.status, 200, `${role} lists`);
    assert(Array.isArray(list.json.data));
    // From the current head: the permission is the point here, not re-hashing the shared log.
    const [head] = await adminSql`select id::text, hash from audit.head()`;
    const verify = await call("admin", `/audit/verify?after_id=${head.id}&hash=${head.hash}`, {
      headers: await bearer(staff),
    });
    assertEquals(verify.status, 200, `${role} verifies`);
    assertEquals(verify.json.ok, true);
  }
});

dbTest("revocation is immediate: staff demoted in the database gets 403 with the same token", async () => {
  const staff = await createUser("support", "ar");
  const headers = await bearer(staff);
  assertEquals((await call("admin", "/audit?limit=1", { headers })).status, 200);
  await adminSql`update public.users set role = 'user' where id = ${staff}`;
  assertEquals((await call("admin", "/audit?limit=1", { headers })).status, 403);
});

// ---------------------------------------------------------------------------------------------
// Search: filters and keyset pagination
// ---------------------------------------------------------------------------------------------

dbTest("filters: actor, exact action, action prefix, target, time range", async () => {
  const d = domain();
  const [alice, bob, reader] = [
    await createUser("support", "fa"),
    await createUser("admin", "fb"),
    await createUser("support", "fr"),
  ];
  const recordId = crypto.randomUUID();
  const e1 = await appendAs(alice, `${d}.erasure.approved`, {
    schema: "public",
    table: "users",
    id: recordId,
  });
  const e2 = await appendAs(bob, `${d}.erasure.rejected`, {
    schema: "public",
    table: "users",
    id: randomUserId("x"),
  });
  const e3 = await appendAs(alice, `${d}.export.created`, { schema: "public", table: "projects" }, {
    ids: [recordId],
    count: 1,
  });
  const headers = await bearer(reader);
  const ids = async (query: string) => {
    const answer = await call("admin", `/audit?${query}`, { headers });
    assertEquals(answer.status, 200, query);
    return answer.json.data.map((entry: { id: string }) => entry.id);
  };

  assertEquals(await ids(`action=${d}.*`), [e3, e2, e1], "prefix: the domain, newest first");
  assertEquals(await ids(`action=${d}.erasure.*`), [e2, e1], "a deeper prefix");
  assertEquals(await ids(`action=${d}.erasure.approved`), [e1], "exact action");
  assertEquals(await ids(`action=${d}.*&actor=${alice}`), [e3, e1], "actor");
  assertEquals(await ids(`action=${d}.*&actor_kind=staff`), [e3, e2, e1], "actor kind");
  assertEquals(await ids(`action=${d}.*&target_table=users`), [e2, e1], "target table");
  assertEquals(
    await ids(`target_table=users&target_id=${recordId}`),
    [e1],
    "target record (single-record entry)",
  );
  assertEquals(
    await ids(`target_table=projects&target_id=${recordId}`),
    [e3],
    "target record listed in details.ids",
  );
  assertEquals(
    await ids(`action=${d}.*&target_schema=public&target_table=projects`),
    [e3],
    "schema and table",
  );

  const [{ at }] = await adminSql`select occurred_at as at from audit.log where id = ${e2}::bigint`;
  const instant = new Date(at as Date);
  const from = new Date(instant.getTime() - 1).toISOString();
  const to = new Date(instant.getTime() + 1).toISOString();
  const window = await ids(`action=${d}.*&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  assert(window.includes(e2), "time range includes the entry");
  assertEquals(
    await ids(`action=${d}.*&to=${encodeURIComponent(new Date(0).toISOString())}`),
    [],
    "empty range",
  );

  const [entry] = (await call("admin", `/audit?action=${d}.erasure.approved`, { headers })).json.data;
  assertEquals(entry.actor, alice);
  assertEquals(entry.actor_kind, "staff");
  assertEquals(entry.db_role, "authenticated");
  assertEquals([entry.target_schema, entry.target_table, entry.target_id], ["public", "users", recordId]);
  assert(
    entry.hash === null || /^[0-9a-f]{64}$/.test(entry.hash),
    "hash: null until sealed, then sha256 hex",
  );
});

dbTest("keyset pagination: pages follow each other without overlap or gap", async () => {
  const d = domain();
  const staff = await createUser("support", "pg");
  const appended: string[] = [];
  for (let i = 0; i < 5; i++) appended.push(await appendAs(staff, `${d}.page.item`, {}, { n: i }));
  const headers = await bearer(staff);

  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = `action=${d}.page.item&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
    const answer = await call("admin", `/audit?${query}`, { headers });
    assertEquals(answer.status, 200);
    assert(answer.json.data.length <= 2);
    seen.push(...answer.json.data.map((entry: { id: string }) => entry.id));
    cursor = answer.json.next_cursor;
    pages++;
  } while (cursor && pages < 10);
  assertEquals(pages, 3);
  assertEquals(seen, [...appended].reverse(), "newest first, every entry once");
});

dbTest("bad input: a clear 400 with field errors, and no search is recorded", async () => {
  const staff = await createUser("support", "bi");
  const headers = await bearer(staff);
  const before = await searchesBy(staff);
  const bad = [
    ["action=Not%20An%20Action", "action"],
    ["target_id=abc", "target_id"],
    ["from=yesterday", "from"],
    ["from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to"],
    ["limit=0", "limit"],
    ["limit=1000", "limit"],
    ["cursor=not-a-cursor", "cursor"],
    ["actor_kind=robot", "actor_kind"],
    ["unknown=1", ""],
  ];
  for (const [query, field] of bad) {
    const answer = await call("admin", `/audit?${query}`, { headers });
    assertEquals(answer.status, 400, query);
    assertEquals(answer.headers.get("content-type"), "application/problem+json");
    if (field) {
      assert(
        answer.json.errors?.some((error: { path: string }) => error.path === field),
        `${query}: names ${field} (${JSON.stringify(answer.json.errors)})`,
      );
    }
  }
  const verify = await call("admin", `/audit/verify?hash=${"a".repeat(64)}`, { headers });
  assertEquals(verify.status, 400, "hash without after_id");
  assertEquals(await searchesBy(staff), before, "refused requests record nothing");
});

dbTest(
  "reading is a staff action: each search is recorded with its filters (ids, no free text)",
  async () => {
    const d = domain();
    const staff = await createUser("admin", "rs");
    const answer = await call("admin", `/audit?action=${d}.*&target_table=users&limit=5`, {
      headers: { ...(await bearer(staff)), "x-request-id": `rs-${d}` },
    });
    assertEquals(answer.status, 200);
    const [row] = await adminSql`
    select actor, actor_kind, details from audit.log where request_id = ${`rs-${d}`} and action = 'audit.searched'`;
    assertEquals(row.actor, staff);
    assertEquals(row.actor_kind, "staff");
    assertEquals(row.details, { action: `${d}.*`, target_table: "users", limit: 5, next_page: false });
  },
);

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

dbTest(
  "verify: the whole chain, then incrementally from a checkpoint; a wrong checkpoint hash is reported",
  async () => {
    const staff = await createUser("support", "vf");
    const headers = await bearer(staff);
    const full = await call("admin", "/audit/verify", { headers });
    assertEquals(full.status, 200);
    assertEquals(full.json.ok, true, JSON.stringify(full.json));
    assertEquals(full.json.first_bad_id, null);
    assertMatch(full.json.head.hash, /^[0-9a-f]{64}$/);
    assert(full.json.entries_checked > 0);

    const checkpoint = full.json.head;
    const since = await call("admin", `/audit/verify?after_id=${checkpoint.id}&hash=${checkpoint.hash}`, {
      headers,
    });
    assertEquals(since.status, 200);
    assertEquals(since.json.ok, true, JSON.stringify(since.json));
    assert(
      since.json.entries_checked < full.json.entries_checked,
      "only what was sealed after the checkpoint",
    );

    const wrong = await call("admin", `/audit/verify?after_id=${checkpoint.id}&hash=${"0".repeat(64)}`, {
      headers,
    });
    assertEquals(wrong.status, 200);
    assertEquals(wrong.json.ok, false);
    assertEquals(wrong.json.first_bad_id, checkpoint.id);
    assertMatch(wrong.json.problem, /^checkpoint mismatch/);

    const [recorded] = await adminSql`
    select count(*)::int as n from audit.log where actor = ${staff} and action = 'audit.verified'`;
    assertEquals(recorded.n, 3, "each verification is itself recorded");
    assertNotEquals(full.json.head.id, null);
  },
);
