/**
 * Fault test: the database restarted, backends killed mid-transaction and a dead socket, while
 * webhook deliveries and API calls flow at concurrency (issue 11).
 *
 * Runs against its own scratch cluster (`.local/pg-fault`, FAULT_PG_PORT, migrations applied by
 * tools/db.sh), so stopping Postgres never touches the cluster the rest of the suite uses. A second
 * gateway (FAULT_GATEWAY_PORT) reaches it through a TcpProxy (for the dead-socket phase) with a small
 * pool, short timeouts and its pool counters exposed (DB_DEBUG_STATS).
 *
 * Phases, with the load running throughout:
 *   1. three `pg_ctl -m fast` stop/start cycles of the real cluster;
 *   2. `pg_terminate_backend` of the functions' connections while their transactions wait on a row
 *      lock (mid-transaction for certain), and of every functions' connection whatever its state;
 *   3. a dead socket: the proxy stops moving bytes; transactions must end at their deadline.
 * Then: every request was answered within the bound (503s with Retry-After allowed), no pooled
 * connection leaked (the gateway's counters at zero, its connections in pg_stat_activity within the pool
 * size and none idle in a transaction), the same gateway serves normally, and every failed delivery,
 * retried as Svix would (same svix-id and body, until 2xx), has its effect exactly once.
 */
import { assert, assertEquals } from "@std/assert";
import postgres from "postgres";
import { DB_URL, FAULT_GATEWAY_PORT, FAULT_PG_PORT, ROOT } from "./_support/env.ts";
import { startGateway } from "./_support/gateway.ts";
import { TcpProxy } from "./_support/tcp_proxy.ts";
import { tokenFor } from "./_support/auth.ts";
import { randomUserId } from "./_support/db.ts";
import {
  type Delivery,
  postDelivery,
  signDelivery,
  userEvent,
  webhookSecret,
} from "../tools/send_webhooks.ts";
import { DEV_APP_ORIGIN } from "../tools/dev_issuer.ts";
import {
  closeDatabase,
  configureDatabase,
  databaseStats,
  withServiceRole,
} from "../supabase/functions/_shared/db.ts";
import { localDbUrl } from "../tools/settings.ts";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const CLUSTER = "pg-fault";
/**
 * tools/db.sh keeps a cluster outside the clone (which may sit in a folder the cluster's OS user
 * cannot enter, e.g. a mode-700 home) and links it as .local/<cluster>: pg_ctl gets the real path.
 */
const clusterDir = () => Deno.realPathSync(`${ROOT}.local/${CLUSTER}`);
const FAULT_URL = localDbUrl(FAULT_PG_PORT);
const POOL_SIZE = 5;
const STATEMENT_TIMEOUT_MS = 1_500;
const DEADLINE_MS = 3_000;
/** Every request must be answered within this (the deadline plus time for a loaded 2-core machine). */
const ANSWER_BOUND_MS = DEADLINE_MS + 3_000;
/** A request still unanswered after this counts as a hang (the test never waits forever). */
const HANG_MS = 2 * ANSWER_BOUND_MS;
/** After Postgres accepts connections again, the gateway must serve within this. */
const RECOVERY_BOUND_MS = DEADLINE_MS + 2_000;
const WORKERS = 8;
const MAX_REQUESTS = 4_000;
const MAX_LOAD_MS = 120_000;

async function run(command: string, args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  const out = await new Deno.Command(command, { args, env, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${command} ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** pg_ctl as the cluster owner (the postmaster refuses root), from /, as tools/db.sh runs it. */
function pgCtl(args: string[]) {
  const dataDir = `${clusterDir()}/data`;
  return Deno.uid() === 0
    ? run("runuser", ["-u", "postgres", "--", `${PG_BIN}/pg_ctl`, "-D", dataDir, ...args], {}, "/")
    : run(`${PG_BIN}/pg_ctl`, ["-D", dataDir, ...args], {}, "/");
}
const stopPostgres = () => pgCtl(["-m", "fast", "-w", "-t", "60", "stop"]);
const startPostgres = () => pgCtl(["-l", `${clusterDir()}/postgres.log`, "-w", "-t", "60", "start"]);

/** Polls `check` until it returns a value (not undefined) or the bound passes. */
async function waitFor<T>(what: string, boundMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + boundMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${boundMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
}

interface Outcome {
  kind: string;
  status: number; // 0: no answer (network error or hang)
  ms: number;
  retryAfter: string | null;
}

Deno.test({
  name:
    "fault: restarts, killed backends and a dead socket under load: every request answered, no leak, exactly once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await run("bash", ["tools/db.sh", "start"], {
      ...Deno.env.toObject(),
      PG_CLUSTER: CLUSTER,
      PG_PORT: String(FAULT_PG_PORT),
      SUPABASE_DB_URL: "",
    });
    const admin = postgres(FAULT_URL, { max: 3, onnotice: () => {}, idle_timeout: 5, connect_timeout: 5 });
    const proxy = new TcpProxy(FAULT_PG_PORT);
    proxy.start();
    const issuer = `http://127.0.0.1:${FAULT_GATEWAY_PORT}/clerk`;
    await Deno.mkdir(`${ROOT}.local/test-results`, { recursive: true });
    const gateway = await startGateway({
      SUPABASE_DB_URL: localDbUrl(proxy.port),
      DB_URL: "",
      DB_POOL_SIZE: String(POOL_SIZE),
      DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      DB_REQUEST_DEADLINE_MS: String(DEADLINE_MS),
      DB_DEBUG_STATS: "true",
      CLERK_ISSUER: issuer,
      CLERK_JWKS_URL: "",
      CLERK_AUTHORIZED_PARTIES: DEV_APP_ORIGIN,
    }, { port: FAULT_GATEWAY_PORT, logFile: `${ROOT}.local/test-results/fault-gateway.log` });
    let exited = false;
    gateway.status.then(() => (exited = true));
    const base = gateway.url;
    const secret = await webhookSecret();
    let postgresDown = false;

    try {
      // --- Data: users with a project each, and one project the lock phase blocks on ----------
      const users: { id: string; headers: Record<string, string>; project: string }[] = [];
      for (let i = 0; i < 10; i++) {
        const id = randomUserId("fault");
        await admin`insert into public.users (id, role) values (${id}, 'user')`;
        const [{ id: project }] = await admin`
          insert into public.projects (user_id, name) values (${id}, 'fault test') returning id`;
        const token = await tokenFor(id, { issuer });
        users.push({
          id,
          project,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        });
      }
      const lockOwner = users[0];

      // --- Load ----------------------------------------------------------------------------
      const outcomes: Outcome[] = [];
      const deliveries = new Map<
        string,
        { delivery: Delivery; event: unknown; userId: string; ok: boolean }
      >();
      let stopLoad = false;
      let sent = 0;

      const timed = async (kind: string, request: () => Promise<Response>): Promise<Outcome> => {
        const started = performance.now();
        let outcome: Outcome;
        try {
          const response = await request();
          await response.body?.cancel();
          outcome = {
            kind,
            status: response.status,
            ms: performance.now() - started,
            retryAfter: response.headers.get("retry-after"),
          };
        } catch {
          outcome = { kind, status: 0, ms: performance.now() - started, retryAfter: null };
        }
        outcomes.push(outcome);
        return outcome;
      };
      const fetchBounded = (url: string, init: RequestInit = {}) =>
        fetch(url, { ...init, signal: AbortSignal.timeout(HANG_MS) });

      const deliverNew = async (): Promise<Outcome> => {
        const userId = randomUserId("fwh");
        const event = userEvent("user.created", userId, { firstName: "Fault" });
        const delivery = signDelivery(secret, event);
        const entry = { delivery, event, userId, ok: false };
        deliveries.set(delivery.svixId, entry);
        const outcome = await timed(
          "webhook",
          () =>
            fetchBounded(`${base}/clerk-webhooks`, {
              method: "POST",
              headers: delivery.headers,
              body: delivery.body,
            }),
        );
        entry.ok = outcome.status >= 200 && outcome.status < 300;
        return outcome;
      };

      const operations = [
        deliverNew,
        deliverNew,
        () => {
          const user = users[1 + Math.floor(Math.random() * (users.length - 1))];
          return timed("list", () => fetchBounded(`${base}/api/projects`, { headers: user.headers }));
        },
        () => {
          const user = users[1 + Math.floor(Math.random() * (users.length - 1))];
          return timed("update", () =>
            fetchBounded(`${base}/api/projects/${user.project}`, {
              method: "PATCH",
              headers: user.headers,
              body: JSON.stringify({ name: `fault ${sent}` }),
            }));
        },
        () => timed("health", () => fetchBounded(`${base}/api/health`)),
      ];

      const loadStarted = Date.now();
      const worker = async () => {
        while (!stopLoad && sent < MAX_REQUESTS && Date.now() - loadStarted < MAX_LOAD_MS) {
          sent++;
          const outcome = await operations[Math.floor(Math.random() * operations.length)]();
          // A client that honours a refusal: a pause before its next request (Svix and client apps
          // back off much longer; this keeps the count bounded while the database is away).
          if (outcome && outcome.status >= 500) await new Promise((resolve) => setTimeout(resolve, 200));
        }
      };
      const load = Promise.all(Array.from({ length: WORKERS }, worker));
      const count = (predicate: (o: Outcome) => boolean) => outcomes.filter(predicate).length;
      const served = () => count((o) => o.status >= 200 && o.status < 300 && o.kind !== "health");

      /** Waits until the gateway serves a database request again; returns how long that took. */
      const recovery = async (): Promise<number> => {
        const started = Date.now();
        await waitFor("the gateway to serve after the database came back", 30_000, async () => {
          const response = await fetchBounded(`${base}/api/projects`, { headers: users[1].headers });
          await response.body?.cancel();
          return response.status === 200 ? true : undefined;
        });
        return Date.now() - started;
      };

      await waitFor("warm-up traffic", 30_000, () => Promise.resolve(served() >= 20 ? true : undefined));

      // --- 1. Three stop/start cycles of the real cluster ---------------------------------------
      const recoveries: number[] = [];
      for (let cycle = 0; cycle < 3; cycle++) {
        const refusedBefore = count((o) => o.status === 503);
        postgresDown = true;
        await stopPostgres();
        const downAt = Date.now();
        // Keep it down until the load has met the outage (503s) and at least a second has passed.
        await waitFor("503s during the outage", 30_000, () =>
          Promise.resolve(
            count((o) => o.status === 503) >= refusedBefore + 5 && Date.now() - downAt >= 1_000
              ? true
              : undefined,
          ));
        await startPostgres();
        postgresDown = false;
        recoveries.push(await recovery());
        // The load itself is served again (not only the probe).
        const before = served();
        await waitFor(
          "load served after the restart",
          30_000,
          () => Promise.resolve(served() > before ? true : undefined),
        );
      }

      // --- 2. Backends killed mid-transaction ---------------------------------------------------
      const locker = await admin.reserve();
      let killedInTransaction = 0;
      try {
        await locker`begin`;
        await locker`select 1 from public.projects where id = ${lockOwner.project} for update`;
        const blocked = Array.from(
          { length: 3 },
          (_, i) =>
            timed("update-locked", () =>
              fetchBounded(`${base}/api/projects/${lockOwner.project}`, {
                method: "PATCH",
                headers: lockOwner.headers,
                body: JSON.stringify({ name: `locked ${i}` }),
              })),
        );
        await waitFor("function transactions waiting on the row lock", 10_000, async () => {
          const [{ n }] = await admin`
            select count(*)::int as n from pg_stat_activity
            where application_name = 'edge-functions' and wait_event_type = 'Lock' and xact_start is not null`;
          return n >= 1 ? n : undefined;
        });
        const killed = await admin`
          select pg_terminate_backend(pid) as done from pg_stat_activity
          where application_name = 'edge-functions' and xact_start is not null`;
        killedInTransaction = killed.filter((row) => row.done).length;
        const answers = await Promise.all(blocked);
        for (const answer of answers) {
          assert(
            answer.status !== 0 && answer.ms <= ANSWER_BOUND_MS,
            `a killed transaction was answered: ${JSON.stringify(answer)}`,
          );
        }
      } finally {
        await locker`rollback`.catch(() => {});
        locker.release();
      }
      assert(killedInTransaction >= 1, "at least one backend was killed inside its transaction");
      for (let round = 0; round < 2; round++) {
        await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'edge-functions'`;
        recoveries.push(await recovery());
      }

      // --- 3. A dead socket: bytes stop moving, nothing closes ----------------------------------
      const deadlinesBefore = count((o) => o.status === 503);
      proxy.freeze();
      await waitFor(
        "requests cut off at their deadline",
        30_000,
        () => Promise.resolve(count((o) => o.status === 503) >= deadlinesBefore + 3 ? true : undefined),
      );
      proxy.thaw();
      recoveries.push(await recovery());

      stopLoad = true;
      await load;

      // --- Svix-style retries of every failed delivery, until 2xx -------------------------------
      let retries = 0;
      for (let round = 0; round < 20; round++) {
        const failed = [...deliveries.values()].filter((entry) => !entry.ok);
        if (failed.length === 0) break;
        for (const entry of failed) {
          retries++;
          // Svix re-signs a retry with a new timestamp; the svix-id and the body stay the same.
          const again = signDelivery(secret, entry.event, { svixId: entry.delivery.svixId });
          const answer = await postDelivery(`${base}/clerk-webhooks`, again).catch(() => ({ status: 0 }));
          entry.ok = answer.status >= 200 && answer.status < 300;
        }
      }

      // --- Figures ------------------------------------------------------------------------------
      const unanswered = outcomes.filter((o) => o.status === 0);
      const late = outcomes.filter((o) => o.ms > ANSWER_BOUND_MS);
      const refused = outcomes.filter((o) => o.status === 503);
      const otherServerErrors = outcomes.filter((o) => o.status >= 500 && o.status !== 503);
      const maxMs = Math.max(...outcomes.map((o) => o.ms));
      console.log(
        `fault test: ${outcomes.length} requests sent, ${outcomes.length - unanswered.length} answered, ` +
          `${refused.length} x 503, ${otherServerErrors.length} other 5xx, max ${Math.round(maxMs)} ms ` +
          `(bound ${ANSWER_BOUND_MS} ms); ${deliveries.size} deliveries, ${retries} retries; ` +
          `killed in transaction ${killedInTransaction}; recovery ms ${recoveries.join(", ")}`,
      );

      assertEquals(exited, false, "the gateway process is still running");
      assertEquals(
        unanswered.length,
        0,
        `requests without an answer: ${JSON.stringify(unanswered.slice(0, 5))}`,
      );
      assertEquals(
        late.length,
        0,
        `requests answered after ${ANSWER_BOUND_MS} ms: ${JSON.stringify(late.slice(0, 5))}`,
      );
      assertEquals(
        refused.filter((o) => !o.retryAfter).length,
        0,
        "every 503 carries Retry-After",
      );
      assertEquals(
        otherServerErrors.length,
        0,
        `5xx other than 503: ${JSON.stringify(otherServerErrors.slice(0, 5))}`,
      );
      assert(refused.length > 0, "the outages were seen");
      for (const ms of recoveries) {
        assert(ms <= RECOVERY_BOUND_MS, `recovered within ${RECOVERY_BOUND_MS} ms: ${ms}`);
      }

      // --- No leak --------------------------------------------------------------------------------
      const stats = await waitFor("the gateway's leases to end", 30_000, async () => {
        const response = await fetchBounded(`${base}/api/_db/stats`);
        const body = await response.json();
        return body.leases_active === 0 && body.connections_held === 0 && body.waiting === 0
          ? body
          : undefined;
      });
      console.log(`fault test: pool counters ${JSON.stringify(stats)}`);
      // Connections of replaced pools close within their grace period or idle timeout (30 s).
      const connections = await waitFor(
        "the gateway's connections within the pool size",
        60_000,
        async () => {
          const rows = await admin`
          select state, wait_event, xact_start from pg_stat_activity where application_name = 'edge-functions'`;
          return rows.length <= POOL_SIZE ? rows : undefined;
        },
      );
      console.log(
        `fault test: ${connections.length} edge-functions connections after the run (pool ${POOL_SIZE})`,
      );
      assertEquals(
        connections.filter((row) => String(row.state).startsWith("idle in transaction")).length,
        0,
        "no connection idle in a transaction",
      );
      // Nothing runs now: a connection still active would be a statement nobody is waiting for.
      assertEquals(connections.filter((row) => row.state !== "idle").length, 0, "every connection is idle");

      // --- The same gateway serves normally: a burst of twice the pool size, all answered 200 -----
      const burst = await Promise.all(
        Array.from(
          { length: 2 * POOL_SIZE },
          (_, i) =>
            timed(
              "after",
              () => fetchBounded(`${base}/api/projects`, { headers: users[1 + (i % 9)].headers }),
            ),
        ),
      );
      assertEquals(burst.map((o) => o.status), burst.map(() => 200));

      // --- Exactly once ---------------------------------------------------------------------------
      const ids = [...deliveries.keys()];
      assertEquals(
        [...deliveries.values()].filter((entry) => !entry.ok).length,
        0,
        "every delivery got a 2xx",
      );
      const inbox = await admin`
        select svix_id, count(*)::int as n from private.clerk_webhook_inbox
        where svix_id = any(${ids}) group by svix_id`;
      assertEquals(inbox.length, ids.length, "one inbox row per delivery");
      assertEquals(inbox.filter((row) => row.n !== 1).length, 0);
      const userIds = [...deliveries.values()].map((entry) => entry.userId);
      const [{ n: created }] = await admin`
        select count(*)::int as n from public.users where id = any(${userIds}) and first_name = 'Fault'`;
      assertEquals(created, userIds.length, "every delivered user exists once");
    } finally {
      proxy.thaw();
      if (postgresDown) await startPostgres().catch(() => {});
      await gateway.stop();
      proxy.stop();
      await admin.end({ timeout: 1 });
      // The scratch cluster is left stopped (its folder is reused by the next run).
      await stopPostgres().catch(() => {});
    }
  },
});

Deno.test({
  name: "lease: a statement after its connection was killed is refused at once, and the pool keeps serving",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // In this process, on the suite's database (the same settings tests/audit_test.ts configures).
    configureDatabase({ url: DB_URL, poolSize: 2, prepare: true, statementTimeoutMs: 5_000 });
    await closeDatabase(); // a fresh pool, whatever an earlier test file did with the shared one
    const killer = postgres(DB_URL, { max: 1, onnotice: () => {} });
    try {
      const before = databaseStats();
      const started = performance.now();
      const failure = await withServiceRole("fault-test", async (tx) => {
        const [{ pid }] = await tx`select pg_backend_pid() as pid`;
        await killer`select pg_terminate_backend(${pid})`;
        await waitFor("the backend to be gone", 5_000, async () => {
          const [{ n }] = await killer`select count(*)::int as n from pg_stat_activity where pid = ${pid}`;
          return n === 0 ? true : undefined;
        });
        // Let the client see the socket close, then write on the transaction as a body would.
        await new Promise((resolve) => setTimeout(resolve, 50));
        await tx`select 1`;
      }).then(() => undefined, (error) => error);
      const elapsed = performance.now() - started;
      assert(failure, "the transaction failed");
      assert(
        ["DB_UNAVAILABLE", "CONNECTION_CLOSED", "ECONNRESET", "EPIPE"].includes(failure.code),
        `a connection error: ${failure.code} ${failure.message}`,
      );
      assert(elapsed < 5_000, `answered at once, not at a deadline: ${elapsed} ms`);
      const after = databaseStats();
      assertEquals(after.connections_held, 0);
      assertEquals(after.released, before.released, "the dead connection was not put back in the pool");
      // The isolate keeps serving: more transactions than the pool has connections, all fine.
      for (let i = 0; i < 5; i++) {
        const [row] = await withServiceRole("fault-test", async (tx) => await tx`select 1 as one`);
        assertEquals(row.one, 1);
      }
      assertEquals(databaseStats().connections_held, 0);
    } finally {
      await killer.end({ timeout: 1 });
      await closeDatabase();
    }
  },
});
