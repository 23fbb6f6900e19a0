/**
 * Clerk webhook receiver throughput: signed, distinct `user.updated` deliveries posted at a fixed
 * number of concurrent connections through the gateway (verify -> parse -> one database call),
 * then the same kind of events applied directly with the receiver's own statement
 * (bench/_webhooks.ts; no HTTP, no signature) for the ratio. Afterwards checks in the database that every delivery took effect
 * exactly once: zero loss, zero duplicates. Cleans up the rows it created.
 *
 *   deno run -A bench/webhooks.ts [--events 4000] [--connections 32]
 *
 * Starts its own gateway on a free port (against SUPABASE_DB_URL) unless given one with
 * `--functions-url <url>` (e.g. $FUNCTIONS_URL of a running `npm run dev`); stops it when done.
 * Goal: at least 2,000 events/s over HTTP.
 */
import postgres from "postgres";
import { dbUrl } from "../tools/settings.ts";
import { applyUserUpdatedDirectly } from "./_webhooks.ts";
import { benchOptions } from "./_options.ts";
import {
  type Delivery,
  postDelivery,
  signDelivery,
  svixMessageId,
  userEvent,
  webhookSecret,
} from "../tools/send_webhooks.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DB_URL = dbUrl();

const options = benchOptions("webhooks");
const EVENTS = options.number("--events", 4_000, "positive integer");
const CONNECTIONS = options.number("--connections", 32, "positive integer");
/** A running gateway's functions URL (e.g. $FUNCTIONS_URL of `npm run dev`) instead of a new one. */
const GATEWAY_URL = options.text("--functions-url");
options.ignoreTheRest();
const WARMUP = Math.min(200, EVENTS);
/** The function's own pool size (DB_POOL_SIZE default), used for the direct path too. */
const POOL_SIZE = Number(Deno.env.get("DB_POOL_SIZE") ?? 5);

const sql = postgres(DB_URL, { max: Math.max(POOL_SIZE, 4), onnotice: () => {}, idle_timeout: 5 });
const runId = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
const userId = (phase: string, i: number) => `user_bench${phase}${runId}${i.toString(36)}`;

// ---------------------------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------------------------

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function startGateway(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (GATEWAY_URL) return { url: GATEWAY_URL.replace(/\/+$/, ""), stop: () => Promise.resolve() };
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}tools/gateway.ts`, "--port", String(port)],
    cwd: ROOT,
    // One access log line per request is not what is measured here.
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(`${base}/clerk/.well-known/jwks.json`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`the gateway did not start:\n${await stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url: `${base}/functions/v1`,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await stderr;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------------

interface Run {
  seconds: number;
  latenciesMs: number[];
  outcomes: Record<string, number>;
}

/** Runs `task(i)` for i in [0, count) with `concurrency` in flight; records each latency. */
async function measure(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<string>,
): Promise<Run> {
  const latenciesMs: number[] = new Array(count);
  const outcomes: Record<string, number> = {};
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      const outcome = await task(i);
      latenciesMs[i] = performance.now() - t0;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  }));
  return { seconds: (performance.now() - started) / 1000, latenciesMs, outcomes };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(run: Run) {
  const sorted = [...run.latenciesMs].sort((a, b) => a - b);
  return {
    eventsPerSecond: Math.round(run.latenciesMs.length / run.seconds),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

/** Users that already exist with an older Clerk state, so each user.updated is a real update. */
async function seedUsers(ids: string[]) {
  await sql`
    insert into public.users (id, email, clerk_created_at, clerk_updated_at)
    select id, 'seed@example.invalid', now() - interval '2 days', now() - interval '1 day'
    from unnest(${ids}::text[]) as id`;
}

interface Check {
  inboxRows: number;
  applied: number;
  usersUpdated: number;
}

/** Exactly once: one applied inbox row per delivery and every user at its event's state. */
async function check(svixIds: string[], ids: string[], updatedAt: number): Promise<Check> {
  const [inbox] = await sql`
    select count(*)::int as rows, count(*) filter (where outcome = 'applied')::int as applied
    from private.clerk_webhook_inbox where svix_id = any(${svixIds})`;
  const [users] = await sql`
    select count(*)::int as updated from public.users
    where id = any(${ids}) and clerk_updated_at = ${new Date(updatedAt)} and first_name = 'Bench'`;
  return { inboxRows: inbox.rows, applied: inbox.applied, usersUpdated: users.updated };
}

async function cleanup(ids: string[], svixIds: string[]) {
  await sql`delete from private.clerk_webhook_inbox where svix_id = any(${svixIds})`;
  await sql`delete from public.users where id = any(${ids})`;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const secret = await webhookSecret();
const gateway = await startGateway();
const webhookUrl = `${gateway.url}/clerk-webhooks`;
const httpIds = Array.from({ length: EVENTS }, (_, i) => userId("h", i));
const directIds = Array.from({ length: EVENTS }, (_, i) => userId("d", i));
const warmIds = Array.from({ length: WARMUP }, (_, i) => userId("w", i));
const updatedAt = Date.now() - 1_000;
const httpDeliveries: Delivery[] = [];
const directSvixIds = Array.from({ length: EVENTS }, () => svixMessageId());
let failed = false;

try {
  await seedUsers([...httpIds, ...directIds, ...warmIds]);
  // Signing is the sender's work (Svix's), not the receiver's: done before the clock starts.
  for (const id of httpIds) {
    httpDeliveries.push(
      signDelivery(secret, userEvent("user.updated", id, { updatedAt, firstName: "Bench" })),
    );
  }
  const warmDeliveries = warmIds.map((id) =>
    signDelivery(secret, userEvent("user.updated", id, { updatedAt, firstName: "Bench" }))
  );

  const post = async (delivery: Delivery) => {
    const { status, json } = await postDelivery(webhookUrl, delivery);
    return status === 200 ? String(json.outcome) : `http_${status}`;
  };
  await measure(WARMUP, CONNECTIONS, (i) => post(warmDeliveries[i]));

  // HTTP: gateway -> Svix verification -> zod -> one pipelined transaction.
  const http = await measure(EVENTS, CONNECTIONS, (i) => post(httpDeliveries[i]));

  // Direct: the receiver's own statement, one per event, on a pool of the function's size.
  const direct = postgres(DB_URL, { max: POOL_SIZE, onnotice: () => {} });
  await direct`select 1`;
  const updatedAtDate = new Date(updatedAt);
  const directRun = await measure(EVENTS, CONNECTIONS, async (i) => {
    return await applyUserUpdatedDirectly(direct, {
      svixId: directSvixIds[i],
      userId: directIds[i],
      at: updatedAtDate,
      email: `bench${i}@example.invalid`,
    });
  });
  await direct.end();

  const httpCheck = await check(httpDeliveries.map((d) => d.svixId), httpIds, updatedAt);
  const directCheck = await check(directSvixIds, directIds, updatedAt);
  const h = summary(http);
  const d = summary(directRun);
  const lossHttp = EVENTS - httpCheck.usersUpdated;
  const duplicatesHttp = httpCheck.inboxRows - EVENTS + (http.outcomes.duplicate ?? 0);

  const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
  console.log(
    `clerk-webhooks: ${EVENTS} distinct signed user.updated events, ${CONNECTIONS} connections, ` +
      `function pool ${POOL_SIZE}`,
  );
  console.log(`  path            events/s      p50        p99       outcomes`);
  console.log(
    `  HTTP (gateway)  ${String(h.eventsPerSecond).padStart(8)}  ${fmt(h.p50).padStart(9)}  ${
      fmt(h.p99).padStart(9)
    }   ${JSON.stringify(http.outcomes)}`,
  );
  console.log(
    `  DB function     ${String(d.eventsPerSecond).padStart(8)}  ${fmt(d.p50).padStart(9)}  ${
      fmt(d.p99).padStart(9)
    }   ${JSON.stringify(directRun.outcomes)}`,
  );
  console.log(
    `  ratio HTTP / direct throughput: ${(h.eventsPerSecond / d.eventsPerSecond).toFixed(2)} ` +
      `(p50 ${(h.p50 / d.p50).toFixed(2)}x)`,
  );
  console.log(
    `  HTTP check in the database: ${httpCheck.inboxRows} inbox rows, ${httpCheck.applied} applied, ` +
      `${httpCheck.usersUpdated} users at their event's state -> loss ${lossHttp}, duplicates ${duplicatesHttp}`,
  );
  console.log(
    `  direct check in the database: ${directCheck.inboxRows} inbox rows, ${directCheck.applied} applied, ` +
      `${directCheck.usersUpdated} users at their event's state`,
  );
  console.log(`  goal >= 2000 events/s over HTTP: ${h.eventsPerSecond >= 2_000 ? "met" : "NOT met"}`);
  console.log(JSON.stringify({
    bench: "webhooks",
    events: EVENTS,
    connections: CONNECTIONS,
    http: { ...h, outcomes: http.outcomes, loss: lossHttp, duplicates: duplicatesHttp },
    direct: { ...d, outcomes: directRun.outcomes },
    ratio: Number((h.eventsPerSecond / d.eventsPerSecond).toFixed(3)),
  }));
  failed = lossHttp !== 0 || duplicatesHttp !== 0 || httpCheck.applied !== EVENTS ||
    directCheck.applied !== EVENTS;
} finally {
  await cleanup(
    [...httpIds, ...directIds, ...warmIds],
    [...httpDeliveries.map((d) => d.svixId), ...directSvixIds],
  ).catch((error) => console.error(`cleanup failed: ${error}`));
  await sql`delete from private.clerk_webhook_inbox where clerk_user_id = any(${warmIds})`.catch(() => {});
  await sql.end();
  await gateway.stop();
}
if (failed) {
  console.error("exactly-once check FAILED");
  Deno.exit(1);
}
