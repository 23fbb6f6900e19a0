/**
 * Audit log, end to end against the local stack:
 * - entries from each source carry the right actor: the Clerk webhook (service role, over HTTP),
 *   other automation through withServiceRole, a cron-like database session, a role change, a
 *   staff action through the admin function; a user's own writes through the API leave none;
 * - the log is append-only for authenticated, service_role and the owner's ordinary session;
 * - the sealer never seals past an appender still in flight, and skips a rolled-back id for good.
 * pgTAP (supabase/tests/database/3*_audit_*.test.sql) covers tampering, archive and structure.
 * Every test uses its own random ids, so concurrent activity in the shared database is harmless.
 */
import { assert, assertEquals, assertExists } from "@std/assert";
import postgres from "postgres";
import { adminSql, createUser, randomUserId } from "./_support/db.ts";
import { bearer } from "./_support/auth.ts";
import { call } from "./_support/http.ts";
import { DB_URL, FUNCTIONS_URL } from "./_support/env.ts";
import { configureDatabase, database, withServiceRole } from "../supabase/functions/_shared/db.ts";
import { postDelivery, signDelivery, userEvent, webhookSecret } from "../tools/send_webhooks.ts";
import type { AuditEntryRow } from "../supabase/functions/admin/repositories/audit.ts";

configureDatabase({ url: DB_URL, poolSize: 2, prepare: true, statementTimeoutMs: 5_000 });

/** Tests share connections that outlive a single test: no per-test sanitizers. */
function dbTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

function requestId(): string {
  return `audit-test-${crypto.randomUUID()}`;
}

/** An entry as GET /admin/audit shows it, without its time and hash. */
type Entry = Omit<AuditEntryRow, "occurred_at" | "hash">;

async function entries(where: postgres.PendingQuery<postgres.Row[]>): Promise<Entry[]> {
  const rows = await adminSql<Entry[]>`
    select id::text, actor, actor_kind, db_role, action, target_schema, target_table, target_id,
           request_id, details
      from audit.log l where ${where} order by id`;
  return [...rows];
}

const aboutRecord = (id: string) =>
  adminSql`(target_id = ${id} or (details ? 'ids' and details -> 'ids' ? ${id}))`;

dbTest(
  "webhook sync: the Clerk webhook's user insert is recorded as clerk-webhooks, ids only, with the request id",
  async () => {
    const userId = randomUserId("aw");
    const rid = requestId();
    const delivery = signDelivery(await webhookSecret(), userEvent("user.created", userId));
    const answer = await postDelivery(`${FUNCTIONS_URL}/clerk-webhooks`, {
      ...delivery,
      headers: { ...delivery.headers, "x-request-id": rid },
    });
    assert(answer.status < 300, `webhook accepted (${answer.status})`);

    const found = await entries(
      adminSql`action = 'data.insert' and target_table = 'users' and target_id = ${userId}`,
    );
    assertEquals(found.length, 1, "one entry for the insert");
    const [entry] = found;
    assertEquals([entry.actor, entry.actor_kind, entry.db_role], [
      "clerk-webhooks",
      "service",
      "service_role",
    ]);
    assertEquals(entry.request_id, rid, "the HTTP request id is on the entry");
    assertEquals(entry.details, { count: 1, ids: [userId] });
    assert(!JSON.stringify(found).includes("@"), "no email address anywhere in the entry");
  },
);

dbTest(
  "automation through withServiceRole: writes and role changes carry the automation's name",
  async () => {
    const userId = randomUserId("as");
    const rid = requestId();
    await withServiceRole("audit-test-sync", async (tx) => {
      await tx`insert into public.users (id) values (${userId})`;
      await tx`update public.users set role = 'support' where id = ${userId}`;
    }, { requestId: rid });

    const found = await entries(adminSql`${aboutRecord(userId)} and request_id = ${rid}`);
    assertEquals(
      found.map((e) => [e.action, e.actor, e.actor_kind, e.db_role]),
      [
        ["data.insert", "audit-test-sync", "service", "service_role"],
        ["user.role.changed", "audit-test-sync", "service", "service_role"],
        ["data.update", "audit-test-sync", "service", "service_role"],
      ],
    );
    assertEquals(found.find((e) => e.action === "user.role.changed")?.details, {
      from: "user",
      to: "support",
    });
  },
);

dbTest(
  "cron-like database session: a cleanup is recorded as kind database with the session's name",
  async () => {
    const owner = await createUser("user", "ac");
    const [{ id: projectId }] = await adminSql`
    insert into public.projects (user_id, name) values (${owner}, 'Cleanup target') returning id::text`;
    const job = `cleanup-${crypto.randomUUID().slice(0, 8)}`;
    const cron = postgres(DB_URL, { max: 1, onnotice: () => {}, connection: { application_name: job } });
    try {
      await cron`delete from public.projects where id = ${projectId}`;
    } finally {
      await cron.end();
    }
    const found = await entries(adminSql`action = 'data.delete' and target_id = ${projectId}`);
    assertEquals(found.map((e) => [e.actor, e.actor_kind, e.db_role, e.target_table]), [
      [job, "database", "postgres", "projects"],
    ]);
  },
);

dbTest("a user's own writes through the API are not audited (workspace history covers them)", async () => {
  const userId = await createUser("user", "au");
  const created = await call("api", "/projects", {
    method: "POST",
    headers: await bearer(userId),
    body: { name: "My own project" },
  });
  assertEquals(created.status, 201);
  const renamed = await call("api", `/projects/${created.json.id}`, {
    method: "PATCH",
    headers: await bearer(userId),
    body: { name: "Renamed" },
  });
  assertEquals(renamed.status, 200);
  assertEquals(await entries(adminSql`actor = ${userId}`), [], "nothing with the user as actor");
  assertEquals(await entries(aboutRecord(created.json.id)), [], "nothing about the user's project");
});

dbTest(
  "staff action through the admin function: recorded with the staff member as actor and the request id",
  async () => {
    const staff = await createUser("support", "ast");
    const rid = requestId();
    const answer = await call("admin", "/audit?limit=1", {
      headers: { ...(await bearer(staff)), "x-request-id": rid },
    });
    assertEquals(answer.status, 200);
    const found = await entries(adminSql`request_id = ${rid}`);
    assertEquals(found.map((e) => [e.action, e.actor, e.actor_kind, e.db_role]), [
      ["audit.searched", staff, "staff", "authenticated"],
    ]);
  },
);

dbTest(
  "append-only: update, delete and truncate are refused for authenticated, service_role and the owner",
  async () => {
    const [{ id }] = await adminSql`select audit.append('test.append_only_deno') as id`;
    const staff = await createUser("admin", "ao");
    const sessions: [string, string][] = [
      ["authenticated", JSON.stringify({ sub: staff, role: "authenticated" })],
      ["service_role", JSON.stringify({ role: "service_role", actor: "audit-test" })],
      ["owner", ""],
    ];
    const statements = [
      `update audit.log set details = '{"forged": true}' where id = ${id}`,
      `delete from audit.log where id = ${id}`,
      "truncate audit.log",
      `update audit.chain set hash = hash where id = ${id}`,
    ];
    for (const [role, claims] of sessions) {
      for (const statement of statements) {
        const refused = await adminSql.begin(async (tx) => {
          if (role !== "owner") {
            await tx`select set_config('role', ${role}, true), set_config('request.jwt.claims', ${claims}, true)`;
          }
          try {
            await tx.unsafe(statement);
            return undefined;
          } catch (error) {
            return (error as { code?: string }).code;
          }
        }).catch((error) => (error as { code?: string }).code);
        assertEquals(refused, "42501", `${role}: ${statement}`);
      }
    }
    const [row] = await adminSql`select details from audit.log where id = ${id}`;
    assertEquals(row.details, {}, "the entry is unchanged");
  },
);

dbTest(
  "sealer: an appender still in flight holds the horizon; a rolled-back id is skipped for good",
  async () => {
    const a = postgres(DB_URL, { max: 1, onnotice: () => {} });
    const b = postgres(DB_URL, { max: 1, onnotice: () => {} });
    try {
      // A appends and stays open; B appends after it and commits.
      const inFlight = await a.reserve();
      await inFlight`begin`;
      const [{ id: slowId }] = await inFlight`select audit.append('test.sealer_in_flight') as id`;
      const [{ id: fastId }] = await b`select audit.append('test.sealer_committed') as id`;
      assert(BigInt(fastId) > BigInt(slowId));

      await adminSql`select audit.seal()`;
      const [state] = await adminSql`select sealed_through from audit.seal_state`;
      assert(BigInt(state.sealed_through) < BigInt(slowId), "nothing at or beyond the open append is sealed");
      const [{ sealed }] =
        await adminSql`select count(*)::int as sealed from audit.chain where id = ${fastId}`;
      assertEquals(sealed, 0, "the later, committed entry waits for the earlier one");

      // The open transaction rolls back: its id becomes a permanent gap and the chain moves on.
      await inFlight`rollback`;
      inFlight.release();
      await adminSql`select audit.seal(interval '20 seconds')`;
      const rows =
        await adminSql`select id::text from audit.chain where id in (${slowId}, ${fastId}) order by id`;
      assertEquals(
        rows.map((r) => r.id),
        [String(fastId)],
        "the rolled-back id is skipped, the committed one sealed",
      );
      const [after] = await adminSql`select sealed_through from audit.seal_state`;
      assert(BigInt(after.sealed_through) >= BigInt(fastId));

      // And the chain still verifies from just before the test's entries.
      const [base] =
        await adminSql`select coalesce(max(id), 0)::text as id from audit.chain where id < ${slowId}`;
      const [check] = await adminSql`select ok, problem from audit.verify(${base.id}::bigint)`;
      assertEquals([check.ok, check.problem], [true, null]);
    } finally {
      await a.end();
      await b.end();
    }
  },
);

// Issue 11, the hole: the sealer's horizon took the snapshot's xmax as "the first unassigned xid".
// xmax is latestCompletedXid + 1: a running transaction whose xid is newer than every completed
// one is neither below xmax nor in the in-progress list. On an idle database the appender is that
// transaction (its xid is the newest and nothing newer has finished), so the sealer judged the
// horizon final, sealed past the in-flight id and the entry, committed later, was "missing from
// the chain". Each variant below leaves the appender's transaction open as the newest writer and
// seals at once, with nothing committed in between; the old sealer skipped the id every time.
const inFlightShapes: Array<[string, (tx: postgres.ReservedSql) => Promise<string>]> = [
  ["the append is the transaction's first write", async (tx) => {
    const [{ id }] = await tx`select audit.append('test.sealer_newest_writer')::text as id`;
    return id;
  }],
  ["the append is inside a savepoint (its row's xmin is a subtransaction xid)", async (tx) => {
    await tx`savepoint s`;
    const [{ id }] = await tx`select audit.append('test.sealer_newest_writer_savepoint')::text as id`;
    await tx`release savepoint s`;
    return id;
  }],
  ["the append is inside a PL/pgSQL exception block", async (tx) => {
    await tx`
      do $$
      begin
        begin
          perform set_config('test.sealer_id', audit.append('test.sealer_newest_writer_block')::text, true);
        exception when others then
          raise;
        end;
      end
      $$`;
    const [{ id }] = await tx`select current_setting('test.sealer_id') as id`;
    return id;
  }],
];

for (const [shape, appendInFlight] of inFlightShapes) {
  dbTest(`sealer: an in-flight append by the newest writer is not sealed past (${shape})`, async () => {
    const a = postgres(DB_URL, { max: 1, onnotice: () => {} });
    const sealer = postgres(DB_URL, { max: 1, onnotice: () => {} });
    const tx = await a.reserve();
    try {
      await sealer`select audit.seal(interval '20 seconds')`;
      const [base] = await sealer`select last_id::text as id from audit.seal_state`;
      await tx`begin`;
      const id = await appendInFlight(tx);
      // At once, from another session: the appender's transaction is the newest writer.
      await sealer`select audit.seal()`;
      const [state] = await sealer`select sealed_through::text from audit.seal_state`;
      assert(BigInt(state.sealed_through) < BigInt(id), `sealed through ${state.sealed_through}, past ${id}`);

      await tx`commit`;
      await sealer`select audit.seal(interval '20 seconds')`;
      const [{ sealed }] = await sealer`select count(*)::int as sealed from audit.chain where id = ${id}`;
      assertEquals(sealed, 1, "the committed entry is sealed");
      const [check] =
        await sealer`select ok, first_bad_id::text, problem from audit.verify(${base.id}::bigint)`;
      assertEquals([check.ok, check.first_bad_id, check.problem], [true, null, null]);
    } finally {
      await tx`rollback`.catch(() => {}); // after a failed assertion: leave no transaction open
      tx.release();
      await a.end({ timeout: 5 });
      await sealer.end({ timeout: 5 });
    }
  });
}

dbTest("head(): the sealed head, ready to checkpoint outside the database", async () => {
  const [head] = await adminSql`select id::text, hash from audit.head()`;
  assertExists(head.id);
  assert(/^[0-9a-f]{64}$/.test(head.hash));
  const [chain] =
    await adminSql`select encode(hash, 'hex') as hash from audit.chain where id = ${head.id}::bigint`;
  assertEquals(chain?.hash, head.hash);
});

// The in-process pool, closed after the last test of this file.
Deno.test.afterAll(async () => {
  await database().end();
});
