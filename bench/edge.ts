/**
 * The edge path, every ratio in one run (figures, not assertions): the table of issue 17.
 *
 *   deno run -A bench/edge.ts [--seconds 3] [--rounds 4] [--connections 32] [--pool 32] [--scale 0.1]
 *                             [--profile <dir>]
 *
 * Rows, all against the scale-0.1 data set (bench/_data.ts) on 127.0.0.1:
 *   driver loops in this process (postgres.js, `--connections` workers, pool `--pool`):
 *     bare       the statement of listProjects alone, as the table owner (no RLS, no transaction);
 *     RLS        listProjects() itself: queryAsUser, begin + context + statement + commit pipelined;
 *     driver     the same four statements on a bare postgres.js reservation, without
 *                _shared/db.ts's lease (slots, deadline, connection guard): what RLS costs with this
 *                driver alone, the ceiling of the RLS row;
 *     webhook DB the receiver's statement (private.apply_clerk_delivery + the outcome counter)
 *                called directly, one per event;
 *   HTTP with wrk (Debian's; a load generator in its own process) against tools/gateway.ts started
 *   here (DB_POOL_SIZE `--pool`, stdout to /dev/null: the access log is written, nobody reads it):
 *     GET /api/projects with a distinct dev-issuer token per simulated user (bench/wrk/get_tokens.lua);
 *     GET /api/health (one `select 1`);
 *     POST /clerk-webhooks with pre-signed, distinct Svix deliveries (bench/wrk/webhooks.lua);
 *     PUT /api/projects/:id/tabs, a 20-tab list whose first tab is dragged to the end under
 *       If-Match, one project and one connection per wrk thread (bench/wrk/put_tabs.lua);
 *     the same GET /api/projects against the gateway with one process per core (--parallel);
 *   the framework ceiling under the same wrk: a bare Deno.serve and a bare hono app (bench/_servers.ts).
 * The driver loops and the GET/webhook rows alternate in `--rounds` rounds (order reversed every
 * round), so load from other work on the machine hits them alike; ratios use the summed counts.
 * Postgres CPU is read from /proc (the postmaster and its children); for tab sync also the
 * execution time pg_stat_statements records (hosted Supabase preloads it; tools/db.sh does too).
 *
 * wrk is installed by this benchmark when missing (as root: apt-get install wrk, as tools/db.sh
 * installs PostgreSQL's packages); otherwise it prints the apt line and stops. Every load is
 * bounded (wrk -d), every child process is ended, the data set is left as generated.
 * --profile <dir>: the gateway runs with --cpu-prof (a .cpuprofile per process into <dir>).
 */
import postgres from "postgres";
import { dbUrl } from "../tools/settings.ts";
import { configureDatabase, contextStatement, queryAsUser } from "../supabase/functions/_shared/db.ts";
import type { UserClaims } from "../supabase/functions/_shared/db.ts";
import { listProjects } from "../supabase/functions/api/repositories/projects.ts";
import { timestamptzAsText } from "../supabase/functions/_shared/timestamps.ts";
import { DEV_APP_ORIGIN, mintSessionToken } from "../tools/dev_issuer.ts";
import { devIssuer } from "../tools/dev_env.ts";
import { signDelivery, svixMessageId, userEvent, webhookSecret } from "../tools/send_webhooks.ts";
import { benchUserId, datasetPlan, ensureDataset, userIdRange } from "./_data.ts";
import { benchOptions } from "./_options.ts";
import { applyUserUpdatedDirectly } from "./_webhooks.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const options = benchOptions("edge");
const option = options.number;
const SECONDS = Math.min(60, option("--seconds", 3));
const ROUNDS = Math.min(10, Math.round(option("--rounds", 4)));
const CONNECTIONS = Math.min(128, Math.round(option("--connections", 32)));
const POOL = Math.min(50, Math.round(option("--pool", 32)));
const SCALE = option("--scale", 0.1);
const PROFILE_DIR = options.text("--profile");
options.ignoreTheRest();
const DB_URL = dbUrl();
const PAGE = 20;
const TABS = 20;
const WRK_THREADS = 2;
const OVERALL_DEADLINE_MS = 15 * 60_000;
const cores = navigator.hardwareConcurrency;
const log = (line: string) => console.error(`[bench:edge] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "-";
const children: Deno.ChildProcess[] = [];
const watchdog = setTimeout(() => {
  log(`overall deadline of ${OVERALL_DEADLINE_MS / 60_000} min reached; exiting`);
  for (const child of children) kill(child, "SIGKILL");
  Deno.exit(1);
}, OVERALL_DEADLINE_MS);

function kill(child: Deno.ChildProcess, signal: Deno.Signal = "SIGTERM") {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

// --- wrk --------------------------------------------------------------------------------------
async function ensureWrk(): Promise<void> {
  const found = await new Deno.Command("sh", { args: ["-c", "command -v wrk"], stdout: "null" }).output();
  if (found.success) return;
  const line = "apt-get update && apt-get install -y wrk";
  if (Deno.uid() !== 0) {
    console.error(`[bench:edge] wrk is not installed; as root: ${line}`);
    Deno.exit(1);
  }
  log(`installing wrk: ${line}`);
  for (const step of [["update", "-qq"], ["install", "-y", "-qq", "wrk"]]) {
    const result = await new Deno.Command("apt-get", {
      args: step,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "null",
    }).output();
    if (!result.success) {
      console.error(`[bench:edge] apt-get ${step.join(" ")} failed; install wrk yourself: ${line}`);
      Deno.exit(1);
    }
  }
}

interface WrkResult {
  requests: number;
  seconds: number;
  rate: number;
  p50Ms: number;
  p99Ms: number;
  codes: Record<string, number>;
  socketErrors: number;
  wraps: number;
  ok: number;
}

const workDir = await Deno.makeTempDir({ prefix: "bench-edge-" });
const reportLua = await Deno.readTextFile(new URL("./wrk/report.lua", import.meta.url));

/** One bounded wrk run: `script` is bench/wrk/<script>.lua (report.lua prepended). */
async function wrk(
  url: string,
  script: string,
  scriptArgs: string[] = [],
  options: { threads?: number; connections?: number; seconds?: number } = {},
): Promise<WrkResult> {
  const path = `${workDir}/${script}.lua`;
  const body = await Deno.readTextFile(new URL(`./wrk/${script}.lua`, import.meta.url));
  await Deno.writeTextFile(path, `${reportLua}\n${body}`);
  const threads = options.threads ?? WRK_THREADS;
  const connections = options.connections ?? CONNECTIONS;
  const seconds = options.seconds ?? SECONDS;
  const output = await new Deno.Command("wrk", {
    args: [
      `-t${threads}`,
      `-c${connections}`,
      `-d${seconds}s`,
      "--timeout",
      "10s",
      "-s",
      path,
      url,
      "--",
      ...scriptArgs,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const line = text.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (!output.success || !line) {
    throw new Error(`wrk failed: ${text}\n${new TextDecoder().decode(output.stderr)}`);
  }
  const r = JSON.parse(line.slice("WRK_JSON ".length));
  const ok = Object.entries(r.codes as Record<string, number>).filter(([code]) => code.startsWith("2"))
    .reduce((sum, [, n]) => sum + n, 0);
  const secs = r.duration_us / 1e6;
  return {
    requests: r.requests,
    seconds: secs,
    rate: ok / secs,
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    codes: r.codes,
    socketErrors: r.connect_errors + r.read_errors + r.write_errors + r.timeouts,
    wraps: r.wraps,
    ok,
  };
}

function mergeWrk(runs: WrkResult[]): WrkResult {
  const codes: Record<string, number> = {};
  for (const run of runs) {
    for (const [code, n] of Object.entries(run.codes)) codes[code] = (codes[code] ?? 0) + n;
  }
  const sum = (f: (r: WrkResult) => number) => runs.reduce((s, r) => s + f(r), 0);
  const seconds = sum((r) => r.seconds);
  return {
    requests: sum((r) => r.requests),
    seconds,
    rate: sum((r) => r.ok) / seconds,
    // wrk gives percentiles per run: the worst run's (an upper bound of the merged one).
    p50Ms: Math.max(...runs.map((r) => r.p50Ms)),
    p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
    codes,
    socketErrors: sum((r) => r.socketErrors),
    wraps: sum((r) => r.wraps),
    ok: sum((r) => r.ok),
  };
}

// --- CPU from /proc (Linux; USER_HZ 100) -------------------------------------------------------
const TICK = 0.01;
function read(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}
/**
 * CPU seconds of a process and all its descendants: those alive now, and those that ended (their
 * time is in their parent's cutime/cstime once reaped). Without the ended ones a backend closed
 * by its pool's idle timeout during a row took its whole past CPU out of that row's figure.
 */
function treeCpu(pid: number): number {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime, stime, cutime, cstime (fields 14-17 of proc(5)).
  let total = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * TICK;
  for (const task of safeReadDir(`/proc/${pid}/task`)) {
    for (const child of (read(`/proc/${pid}/task/${task}/children`) ?? "").trim().split(/\s+/)) {
      if (child) total += treeCpu(Number(child));
    }
  }
  return total;
}
function safeReadDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((e) => e.name);
  } catch {
    return [];
  }
}
function parentOf(pid: number): number {
  const stat = read(`/proc/${pid}/stat`) ?? "";
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

interface Cpu {
  postgres: number;
  gateway: number;
}
let postmasterPid = 0;
function cpuNow(gatewayPid?: number): Cpu {
  return { postgres: treeCpu(postmasterPid), gateway: gatewayPid ? treeCpu(gatewayPid) : 0 };
}
function cpuSince(before: Cpu, gatewayPid?: number): Cpu {
  const after = cpuNow(gatewayPid);
  return { postgres: after.postgres - before.postgres, gateway: after.gateway - before.gateway };
}

// --- Servers ----------------------------------------------------------------------------------
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitFor(url: string, child: Deno.ChildProcess, what: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      kill(child, "SIGKILL");
      throw new Error(`${what} did not come up`);
    }
    await sleep(200);
  }
}

interface Server {
  base: string;
  child: Deno.ChildProcess;
}

async function startGateway(parallel?: number): Promise<Server> {
  const port = freePort();
  const env = Deno.env.toObject();
  delete env.CLERK_JWKS_URL;
  const profile = PROFILE_DIR
    ? [
      `--cpu-prof`,
      `--cpu-prof-dir=${PROFILE_DIR}`,
      `--cpu-prof-name=gateway-${parallel ?? 1}-${port}.cpuprofile`,
    ]
    : [];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...profile,
      `${ROOT}tools/gateway.ts`,
      "--port",
      String(port),
      ...(parallel ? ["--parallel", String(parallel)] : []),
    ],
    env: {
      ...env,
      SUPABASE_DB_URL: DB_URL,
      DB_POOL_SIZE: String(parallel ? Math.max(2, Math.ceil(POOL / parallel)) : POOL),
      CLERK_ISSUER: devIssuer(port),
      CLERK_AUTHORIZED_PARTIES: DEV_APP_ORIGIN,
    },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  children.push(child);
  const base = `http://127.0.0.1:${port}/functions/v1`;
  await waitFor(`${base}/api/health`, child, "the gateway");
  return { base, child };
}

async function startBare(mode: "deno" | "hono"): Promise<Server> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", `${ROOT}bench/_servers.ts`, "--mode", mode, "--port", String(port)],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/health`, child, `the bare ${mode} server`);
  return { base, child };
}

async function stop(server: Server) {
  kill(server.child, PROFILE_DIR ? "SIGINT" : "SIGTERM");
  const status = await Promise.race([server.child.status, sleep(5_000).then(() => undefined)]);
  if (!status) kill(server.child, "SIGKILL");
}

// --- Driver loops -----------------------------------------------------------------------------
interface LoopResult {
  count: number;
  seconds: number;
  latencies: number[];
  cpu: Cpu;
}

async function loop(seconds: number, op: (worker: number) => Promise<unknown>): Promise<LoopResult> {
  const before = cpuNow();
  const latencies: number[] = [];
  let count = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async (_, worker) => {
    while (performance.now() < deadline) {
      const t = performance.now();
      await op(worker);
      latencies.push(performance.now() - t);
      count++;
    }
  }));
  return { count, seconds: (performance.now() - started) / 1000, latencies, cpu: cpuSince(before) };
}

function mergeLoops(runs: LoopResult[]) {
  const count = runs.reduce((s, r) => s + r.count, 0);
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  const sorted = Float64Array.from(runs.flatMap((r) => r.latencies)).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  const postgresCpu = runs.reduce((s, r) => s + r.cpu.postgres, 0);
  return { rate: count / seconds, p50Ms: at(50), p99Ms: at(99), postgresUs: (postgresCpu / count) * 1e6 };
}

// --- Main -------------------------------------------------------------------------------------
await ensureWrk();
const plan = datasetPlan(SCALE);
log(`ensuring the scale-${SCALE} data set`);
await ensureDataset(SCALE, { dbUrl: DB_URL });
const admin = postgres(DB_URL, {
  max: 2,
  onnotice: () => {},
  connection: { application_name: "bench-edge" },
});
const [{ pid: backendPid }] = await admin`select pg_backend_pid() as pid`;
postmasterPid = parentOf(backendPid);
const [{ stmts }] = await admin`
  select exists (select from pg_extension where extname = 'pg_stat_statements')
     and current_setting('shared_preload_libraries') like '%pg_stat_statements%' as stmts`;

configureDatabase({ url: DB_URL, poolSize: POOL, prepare: true, statementTimeoutMs: 5_000 });
// The same driver configuration as the functions' pool (timestamptz read as text), so the bare row
// differs from the RLS row only by RLS and the transaction.
const bare = postgres(DB_URL, {
  max: POOL,
  prepare: true,
  onnotice: () => {},
  idle_timeout: 30,
  types: { timestamptz: timestamptzAsText },
});
const direct = postgres(DB_URL, { max: POOL, prepare: true, onnotice: () => {}, idle_timeout: 30 });
const PROJECT_COLUMNS = `id, user_id, name, description, status, deleted_at, metadata, tabs_version::text,
  last_active_at, created_at, updated_at`;
const randomUser = () => benchUserId(plan, Math.floor(Math.random() * plan.users));

let gateway: Server | undefined;
const runId = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
const webhookUsers: string[] = [];
const svixIds: string[] = [];
const putProjects: Array<{ id: string; token: string; original: unknown[] }> = [];
let watermark = "0";
let failed = true;

try {
  gateway = await startGateway();
  const issuer = gateway.base.replace("/functions/v1", "/clerk");
  // Tokens: one per simulated user, minted up front (the issuer is the gateway's dev issuer).
  const tokenUsers = new Set<number>();
  while (tokenUsers.size < Math.min(2_000, plan.users)) {
    tokenUsers.add(Math.floor(Math.random() * plan.users));
  }
  const tokens: string[] = [];
  for (const n of tokenUsers) {
    tokens.push(await mintSessionToken(benchUserId(plan, n), { issuer, expiresIn: 3600 }));
  }
  const tokensFile = `${workDir}/tokens.txt`;
  await Deno.writeTextFile(tokensFile, tokens.join("\n") + "\n");
  log(`${tokens.length} tokens minted`);

  // Webhooks: user.updated of users that exist (each a real update), distinct per delivery and per
  // path; signed right before each round (Svix's tolerance is 5 minutes).
  const secret = await webhookSecret();
  const webhookUrl = `${gateway.base}/clerk-webhooks`;
  let webhookSerial = 0;
  const seedWebhookUsers = async (count: number) => {
    const ids = Array.from(
      { length: count },
      () => `user_benchedge${runId}${(webhookSerial++).toString(36)}`,
    );
    await admin`
      insert into public.users (id, email, clerk_created_at, clerk_updated_at)
      select id, 'seed@example.invalid', now() - interval '2 days', now() - interval '1 day'
      from unnest(${ids}::text[]) as id`;
    webhookUsers.push(...ids);
    return ids;
  };
  /** Enough for twice the rate seen so far (or 6,000/s at first), so wrk never wraps. */
  let webhookRateGuess = 3_000;
  const writeDeliveries = async () => {
    const count = Math.ceil(webhookRateGuess * 2 * SECONDS) + 500;
    const ids = await seedWebhookUsers(count);
    const updatedAt = Date.now() - 1_000;
    const lines = ids.map((id) => {
      const d = signDelivery(secret, userEvent("user.updated", id, { updatedAt, firstName: "Bench" }));
      svixIds.push(d.svixId);
      return [d.svixId, d.headers["svix-timestamp"], d.headers["svix-signature"], d.body].join("\t");
    });
    const file = `${workDir}/deliveries.txt`;
    await Deno.writeTextFile(file, lines.join("\n") + "\n");
    return file;
  };
  const directOp = async () => {
    const [id] = await seedPool.shift()!;
    const svixId = svixMessageId();
    svixIds.push(svixId);
    const at = new Date(Date.now() - 1_000);
    await applyUserUpdatedDirectly(direct, { svixId, userId: id, at, email: "bench@example.invalid" });
  };
  let seedPool: string[][] = [];

  const variants = {
    bare: () =>
      bare`
        select ${bare.unsafe(PROJECT_COLUMNS)},
               to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_updated_at
        from public.projects
        where user_id = ${randomUser()} and status = any(${["active", "archived"]}::text[])
        order by updated_at desc, id desc
        limit ${PAGE + 1}`,
    rls: () => {
      const claims = claimsFor(randomUser(), issuer);
      return queryAsUser(
        claims,
        (tx) => listProjects(tx, claims.sub, { statuses: ["active", "archived"], limit: PAGE }),
      );
    },
    driverOnly: async () => {
      const claims = claimsFor(randomUser(), issuer);
      const tx = await bare.reserve();
      try {
        // As _shared/db.ts pipelines them: handed to the connection together, answered in order.
        await Promise.all([
          tx.unsafe("begin"),
          contextStatement(tx, claims, { requestId: "" }),
          listProjects(tx, claims.sub, { statuses: ["active", "archived"], limit: PAGE }),
          tx.unsafe("commit"),
        ]);
      } finally {
        tx.release();
      }
    },
  };

  log("warm-up");
  await loop(1, variants.bare);
  await loop(1, variants.rls);
  await loop(1, variants.driverOnly);
  await wrk(`${gateway.base}/api/projects`, "get_tokens", [`/functions/v1/api/projects`, tokensFile], {
    seconds: 1,
  });
  await wrk(webhookUrl, "webhooks", [await writeDeliveries(), String(WRK_THREADS)], { seconds: 1 });

  const samples = {
    bare: [] as LoopResult[],
    rls: [] as LoopResult[],
    driverOnly: [] as LoopResult[],
    direct: [] as LoopResult[],
    get: [] as WrkResult[],
    getCpu: [] as Cpu[],
    hook: [] as WrkResult[],
    hookCpu: [] as Cpu[],
  };
  const gatewayPid = gateway.child.pid;
  for (let round = 0; round < ROUNDS; round++) {
    const steps: Array<[string, () => Promise<void>]> = [
      ["bare driver", async () => void samples.bare.push(await loop(SECONDS, variants.bare))],
      ["RLS driver", async () => void samples.rls.push(await loop(SECONDS, variants.rls))],
      [
        "RLS statements, driver only",
        async () => void samples.driverOnly.push(await loop(SECONDS, variants.driverOnly)),
      ],
      ["GET /projects", async () => {
        const before = cpuNow(gatewayPid);
        samples.get.push(
          await wrk(`${gateway!.base}/api/projects`, "get_tokens", [
            `/functions/v1/api/projects`,
            tokensFile,
          ]),
        );
        samples.getCpu.push(cpuSince(before, gatewayPid));
      }],
      ["webhooks direct", async () => {
        const ids = await seedWebhookUsers(Math.ceil(webhookRateGuess * 2 * SECONDS) + 500);
        seedPool = ids.map((id) => [id]);
        samples.direct.push(await loop(SECONDS, directOp));
      }],
      ["webhooks HTTP", async () => {
        const file = await writeDeliveries();
        const before = cpuNow(gatewayPid);
        const result = await wrk(webhookUrl, "webhooks", [file, String(WRK_THREADS)]);
        samples.hookCpu.push(cpuSince(before, gatewayPid));
        samples.hook.push(result);
        webhookRateGuess = Math.max(webhookRateGuess, result.rate);
      }],
    ];
    if (round % 2 === 1) steps.reverse();
    for (const [name, step] of steps) {
      log(`round ${round + 1}/${ROUNDS}: ${name} (${SECONDS} s)`);
      await step();
    }
  }

  log(`GET /health (${SECONDS} s)`);
  const healthBefore = cpuNow(gatewayPid);
  const health = await wrk(`${gateway.base}/api/health`, "get_plain");
  const healthCpu = cpuSince(healthBefore, gatewayPid);

  // PUT /projects/:id/tabs: one project per wrk thread and connection, 20 tabs each.
  const [{ mark }] = await admin`select coalesce(max(id), 0)::text as mark from public.workspace_history`;
  watermark = mark;
  const candidates = await admin<{ id: string; user_id: string }[]>`
    select distinct on (user_id) id, user_id from public.projects
    where user_id >= ${userIdRange(plan)[0]} and user_id < ${userIdRange(plan)[1]} and status = 'active'
    order by user_id, random() limit ${CONNECTIONS * 4}`;
  const picked = candidates.sort(() => Math.random() - 0.5).slice(0, CONNECTIONS);
  const putLines: string[] = [];
  for (const { id, user_id } of picked) {
    const token = await mintSessionToken(user_id, { issuer, expiresIn: 3600 });
    const response = await fetch(`${gateway.base}/api/projects/${id}/tabs`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await response.json();
    if (!response.ok) throw new Error(`GET tabs of ${id}: ${response.status}`);
    const original = (body.data as Array<Record<string, unknown>>).map(({ id, title, kind, metadata }) => ({
      id,
      title,
      kind,
      metadata,
    }));
    putProjects.push({ id, token, original });
    const list: unknown[] = [...original];
    while (list.length < TABS) {
      list.push({
        id: crypto.randomUUID(),
        title: `Bench tab ${list.length + 1}`,
        kind: "notes",
        metadata: {},
      });
    }
    // Bring the list to 20 tabs first, so the measured requests are pure reorders.
    const grown = await fetch(`${gateway.base}/api/projects/${id}/tabs`, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "if-match": response.headers.get("etag")!,
      },
      body: JSON.stringify({ tabs: list }),
    });
    await grown.body?.cancel();
    if (!grown.ok) throw new Error(`PUT tabs of ${id}: ${grown.status}`);
    putLines.push(
      [
        `/functions/v1/api/projects/${id}/tabs`,
        token,
        grown.headers.get("etag"),
        ...list.map((t) => JSON.stringify(t)),
      ]
        .join("\t"),
    );
  }
  const putFile = `${workDir}/put.txt`;
  await Deno.writeTextFile(putFile, putLines.join("\n") + "\n");
  const putOptions = { threads: putLines.length, connections: putLines.length };
  log(`PUT /projects/:id/tabs warm-up (1 s), ${putLines.length} connections`);
  await wrk(gateway.base, "put_tabs", [putFile], { ...putOptions, seconds: 1 });
  // The warm-up moved the lists on: start from the versions now current.
  const current = await admin<{ id: string; version: string }[]>`
    select id, tabs_version::text as version from public.projects where id = any(${
    picked.map((p) => p.id)
  }::uuid[])`;
  const versions = new Map(current.map((r) => [r.id, r.version]));
  await Deno.writeTextFile(
    putFile,
    putLines.map((line) => {
      const fields = line.split("\t");
      fields[2] = `"${versions.get(fields[0].split("/")[5])}"`;
      return fields.join("\t");
    }).join("\n") + "\n",
  );
  const [{ mark: putMark }] =
    await admin`select coalesce(max(id), 0)::text as mark from public.workspace_history`;
  if (stmts) await admin`select extensions.pg_stat_statements_reset()`;
  log(`PUT /projects/:id/tabs (${SECONDS * 2} s)`);
  const putBefore = cpuNow(gatewayPid);
  const put = await wrk(gateway.base, "put_tabs", [putFile], { ...putOptions, seconds: SECONDS * 2 });
  const putCpu = cpuSince(putBefore, gatewayPid);
  const putStatements = stmts
    ? await admin<{ query: string; calls: number; total_ms: number }[]>`
        select query, calls::int, total_exec_time as total_ms from extensions.pg_stat_statements
        where toplevel and query not like '%pg_stat_statements%'
        order by total_exec_time desc limit 6`
    : [];
  const [{ rows: historyRows }] = await admin`
    select count(*)::int as rows from public.workspace_history
    where id > ${putMark}::bigint and project_id = any(${picked.map((p) => p.id)}::uuid[])`;
  const syncs = put.codes["200"] ?? 0;

  await stop(gateway);
  gateway = undefined;

  // One process per core, the same GET /projects (tokens of its own issuer: its port).
  log(`GET /projects, gateway --parallel ${cores} (${SECONDS} s)`);
  const parallelGateway = await startGateway(cores);
  const parallelIssuer = parallelGateway.base.replace("/functions/v1", "/clerk");
  const parallelTokens: string[] = [];
  for (const n of tokenUsers) {
    parallelTokens.push(
      await mintSessionToken(benchUserId(plan, n), { issuer: parallelIssuer, expiresIn: 3600 }),
    );
  }
  const parallelTokensFile = `${workDir}/tokens-parallel.txt`;
  await Deno.writeTextFile(parallelTokensFile, parallelTokens.join("\n") + "\n");
  const parallelArgs = [`/functions/v1/api/projects`, parallelTokensFile];
  await wrk(`${parallelGateway.base}/api/projects`, "get_tokens", parallelArgs, { seconds: 2 });
  const parallelGet = await wrk(`${parallelGateway.base}/api/projects`, "get_tokens", parallelArgs);
  await stop(parallelGateway);

  // The framework ceiling.
  const ceiling: Record<string, WrkResult> = {};
  for (const mode of ["deno", "hono"] as const) {
    log(`bare ${mode} server (${SECONDS} s)`);
    const server = await startBare(mode);
    await wrk(`${server.base}/health`, "get_plain", [], { seconds: 1 });
    ceiling[mode] = await wrk(`${server.base}/health`, "get_plain");
    await stop(server);
  }

  // --- Report -----------------------------------------------------------------------------
  const b = mergeLoops(samples.bare);
  const r = mergeLoops(samples.rls);
  const floor = mergeLoops(samples.driverOnly);
  const d = mergeLoops(samples.direct);
  const get = mergeWrk(samples.get);
  const hook = mergeWrk(samples.hook);
  const perOp = (seconds: number, count: number) => (seconds / count) * 1e6;
  const sumCpu = (list: Cpu[], key: keyof Cpu) => list.reduce((s, c) => s + c[key], 0);
  const [{ version }] = await admin`select current_setting('server_version') as version`;
  const w = [46, 11, 8, 8, 10, 11, 12];
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(w[i]) : cell.padStart(w[i]))).join(" ");
  const row = (
    name: string,
    rate: number,
    p50: number,
    p99: number,
    ratio: string,
    gatewayUs?: number,
    postgresUs?: number,
  ) =>
    line([
      name,
      fmt(rate),
      fmt(p50, 2),
      fmt(p99, 2),
      ratio,
      gatewayUs === undefined ? "-" : fmt(gatewayUs),
      postgresUs === undefined ? "-" : fmt(postgresUs),
    ]);
  const goal = (ratio: number, target: number) => `${fmt(ratio, 2)}${ratio >= target ? "" : "!"}`;
  const out: string[] = [];
  out.push("");
  out.push("Edge path benchmark (figures, not assertions)");
  out.push(
    `  ${cores} cores shared by wrk, this process, the gateway and Postgres ${
      String(version).split(" ")[0]
    } ` +
      `(127.0.0.1); ${CONNECTIONS} connections; pool ${POOL}; ${ROUNDS} rounds of ${SECONDS} s ` +
      `(driver, GET and webhook rows interleaved); scale ${SCALE}`,
  );
  out.push(
    "  ratio: against the row named; ! = below its goal. CPU columns: microseconds per operation " +
      "(gateway: all its processes; Postgres: the postmaster and every backend).",
  );
  out.push("");
  out.push(line(["path", "per second", "p50 ms", "p99 ms", "ratio", "gateway us", "Postgres us"]));
  out.push(row("driver loop, bare statement", b.rate, b.p50Ms, b.p99Ms, "1.00", undefined, b.postgresUs));
  out.push(
    row(
      "driver loop, RLS pipelined (queryAsUser)",
      r.rate,
      r.p50Ms,
      r.p99Ms,
      `${goal(r.rate / b.rate, 0.6)} bare`,
      undefined,
      r.postgresUs,
    ),
  );
  out.push(
    row(
      "  the same statements, postgres.js alone",
      floor.rate,
      floor.p50Ms,
      floor.p99Ms,
      `${fmt(floor.rate / b.rate, 2)} bare`,
      undefined,
      floor.postgresUs,
    ),
  );
  out.push(
    row(
      "GET /api/projects over HTTP (wrk)",
      get.rate,
      get.p50Ms,
      get.p99Ms,
      `${goal(get.rate / r.rate, 0.7)} RLS`,
      perOp(sumCpu(samples.getCpu, "gateway"), get.ok),
      perOp(sumCpu(samples.getCpu, "postgres"), get.ok),
    ),
  );
  out.push(
    row(
      `GET /api/projects, gateway --parallel ${cores}`,
      parallelGet.rate,
      parallelGet.p50Ms,
      parallelGet.p99Ms,
      `${fmt(parallelGet.rate / r.rate, 2)} RLS`,
    ),
  );
  out.push(
    row(
      "GET /api/health (select 1)",
      health.rate,
      health.p50Ms,
      health.p99Ms,
      "-",
      perOp(healthCpu.gateway, health.ok),
      perOp(healthCpu.postgres, health.ok),
    ),
  );
  out.push(row("bare Deno.serve, JSON", ceiling.deno.rate, ceiling.deno.p50Ms, ceiling.deno.p99Ms, "-"));
  out.push(row("bare hono app, JSON", ceiling.hono.rate, ceiling.hono.p50Ms, ceiling.hono.p99Ms, "-"));
  out.push(
    row("webhooks, DB function called directly", d.rate, d.p50Ms, d.p99Ms, "1.00", undefined, d.postgresUs),
  );
  out.push(
    row(
      "webhooks over HTTP (wrk, signed, distinct)",
      hook.rate,
      hook.p50Ms,
      hook.p99Ms,
      `${goal(hook.rate / d.rate, 0.7)} direct`,
      perOp(sumCpu(samples.hookCpu, "gateway"), hook.ok),
      perOp(sumCpu(samples.hookCpu, "postgres"), hook.ok),
    ),
  );
  out.push(
    row(
      `PUT /api/projects/:id/tabs (${TABS}-tab reorder)`,
      put.rate,
      put.p50Ms,
      put.p99Ms,
      put.p99Ms < 30 ? "p99<30ms" : "p99>=30!",
      perOp(putCpu.gateway, syncs),
      perOp(putCpu.postgres, syncs),
    ),
  );
  const statementUs = putStatements.reduce((s, st) => s + st.total_ms, 0) * 1000 / Math.max(1, syncs);
  out.push("");
  out.push(
    `tab sync: ${fmt(syncs)} syncs at ${putLines.length} connections; Postgres CPU ${
      fmt(perOp(putCpu.postgres, syncs))
    } us per sync (goal <= 600)${
      stmts ? `, statement execution ${fmt(statementUs)} us per sync (pg_stat_statements)` : ""
    }; history rows per sync ${fmt(historyRows / Math.max(1, syncs), 2)}; statuses ${
      JSON.stringify(put.codes)
    }`,
  );
  for (const st of putStatements) {
    out.push(
      `  ${fmt((st.total_ms * 1000) / Math.max(1, syncs)).padStart(6)} us/sync  ${
        fmt(st.calls).padStart(7)
      } calls  ${st.query.replace(/\s+/g, " ").slice(0, 100)}`,
    );
  }
  const statuses = (name: string, result: WrkResult) =>
    `${name} ${JSON.stringify(result.codes)}${
      result.socketErrors ? ` socket errors ${result.socketErrors}` : ""
    }${result.wraps ? ` wraps ${result.wraps}` : ""}`;
  out.push(
    `statuses: ${statuses("GET", get)}; ${statuses("parallel GET", parallelGet)}; ${
      statuses("health", health)
    }; ${statuses("webhooks", hook)}`,
  );
  out.push(
    `goals: RLS/bare ${fmt(r.rate / b.rate, 2)} (>= 0.6; postgres.js alone ${
      fmt(floor.rate / b.rate, 2)
    }), GET/RLS ${fmt(get.rate / r.rate, 2)} (>= 0.7), ` +
      `webhooks HTTP/direct ${fmt(hook.rate / d.rate, 2)} (>= 0.7), tab sync ${
        fmt(perOp(putCpu.postgres, syncs))
      } us Postgres CPU (<= 600), p99 ${fmt(put.p99Ms, 1)} ms (< 30)`,
  );
  console.log(out.join("\n"));
  failed = false;
} catch (error) {
  console.error(error);
} finally {
  if (gateway) await stop(gateway);
  for (const child of children) kill(child, "SIGKILL");
  // Leave the data set as generated: original tab lists, no history or users of this run.
  for (const project of putProjects) {
    await admin.begin(async (tx) => {
      await tx`delete from public.workspace_tabs where project_id = ${project.id}`;
      await tx`
        insert into public.workspace_tabs (id, project_id, user_id, position, title, kind, metadata)
        select t.id, p.id, p.user_id, t.position, t.title, t.kind, t.metadata
        from public.projects p,
             jsonb_to_recordset(${
        admin.json(
          project.original.map((tab, position) => ({ ...(tab as object), position })) as postgres.JSONValue,
        )
      }) as t(id uuid, position int, title text, kind text, metadata jsonb)
        where p.id = ${project.id}`;
    }).catch((error) => log(`restoring ${project.id} failed: ${error}`));
  }
  if (putProjects.length > 0) {
    await admin`
      delete from public.workspace_history
      where id > ${watermark}::bigint and project_id = any(${putProjects.map((p) => p.id)}::uuid[])`
      .catch(() => {});
  }
  await admin`delete from private.clerk_webhook_inbox where svix_id = any(${svixIds})`.catch(() => {});
  await admin`delete from public.users where id = any(${webhookUsers})`.catch(() => {});
  await Promise.all([admin.end({ timeout: 5 }), bare.end({ timeout: 5 }), direct.end({ timeout: 5 })]);
  await Deno.remove(workDir, { recursive: true }).catch(() => {});
  clearTimeout(watchdog);
  // queryAsUser's pool (configureDatabase) is ended with the process.
  Deno.exit(failed ? 1 : 0);
}

function claimsFor(sub: string, issuer: string): UserClaims {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub,
    sid: "sess_bench",
    v: 2,
    azp: DEV_APP_ORIGIN,
    iss: issuer,
    iat: now,
    nbf: now - 5,
    exp: now + 3600,
  };
}
