/**
 * API benchmark: prints figures and ratios, asserts nothing.
 *
 *   deno run -A bench/api.ts [--duration 8] [--http-duration 10] [--concurrency 32] [--pool 32]
 *                            [--tokens 2000] [--scale 0.1]
 *
 * On the scale-0.1 data set (bench/_data.ts: 10,000 users, 100,000 projects, 500,000 tabs,
 * 1,000,000 history rows):
 *
 * (a) Driver loop, postgres.js, 32 concurrent workers, one random bench user per iteration,
 *     the first page of "my projects" (the exact statement of listProjects):
 *       bare   - the statement alone, as the table owner (no RLS, no transaction);
 *       RLS    - the production code path: listProjects() from the api repository, i.e.
 *                queryAsUser() (begin + role/claims context + statement + commit pipelined on a
 *                reserved connection);
 *       naive  - the same four statements through sql.begin(), awaited one by one.
 *     Same pool size for each (default: one connection per worker), interleaved in short rounds.
 *     Prints queries/s, p50, p99, CPU per query and the ratios.
 * (b) HTTP through a local gateway process (tools/gateway.ts on a free 127.0.0.1 port, the same
 *     process model as `npm run dev`), 32 concurrent connections:
 *       GET /projects with a distinct pre-minted dev-issuer token per simulated user;
 *       PUT /projects/:id/tabs, each worker owning its own projects (GET the ETag once, then a
 *       20-tab list reordered each time under If-Match; 412s counted apart - expected 0).
 *     Afterwards the touched projects get their original tab lists back and the history rows the
 *     benchmark wrote are removed, so the data set stays as generated.
 *
 * Load generator, gateway and Postgres share the machine's cores (2 here): absolute figures are
 * bounded by that; the ratios are the point. Everything stops by itself (bounded durations,
 * request timeouts, an overall deadline).
 */
import postgres from "postgres";
import { dbUrl, port } from "../tools/settings.ts";
import { configureDatabase, database, queryAsUser } from "../supabase/functions/_shared/db.ts";
import { timestamptzAsText } from "../supabase/functions/_shared/timestamps.ts";
import type { UserClaims } from "../supabase/functions/_shared/db.ts";
import { listProjects } from "../supabase/functions/api/repositories/projects.ts";
import { DEV_APP_ORIGIN, mintSessionToken } from "../tools/dev_issuer.ts";
import { devIssuer } from "../tools/dev_env.ts";
import { benchUserId, datasetPlan, ensureDataset, userIdRange } from "./_data.ts";
import type { DatasetPlan } from "./_data.ts";
import { benchOptions } from "./_options.ts";

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------
const options = benchOptions("api");
const option = options.number;
const DURATION_S = option("--duration", 8);
const HTTP_DURATION_S = option("--http-duration", 10);
const CONCURRENCY = Math.min(256, Math.round(option("--concurrency", 32)));
/** Pool size of every variant and of the gateway; default: one connection per worker, so no path
 * queues for a connection (the production default DB_POOL_SIZE is 5 per isolate). */
const POOL = Math.min(50, Math.round(option("--pool", CONCURRENCY)));
const TOKENS = Math.min(20_000, Math.round(option("--tokens", 2_000)));
const SCALE = option("--scale", 0.1);
/** (a) variants alternate in this many rounds of DURATION_S / ROUNDS seconds each. */
const ROUNDS = 8;
options.ignoreTheRest();
const DB_URL = dbUrl();
const STATEMENT_TIMEOUT_MS = 5_000;
const PAGE = 20;
const STATUSES = ["active", "archived"];
const TABS_PER_PUT = 20;
const PROJECTS_PER_PUT_WORKER = 4;
/** Hard stop, whatever happens. */
const OVERALL_DEADLINE_MS = 15 * 60_000;

// Mirrors PROJECT_COLUMNS of supabase/functions/api/repositories/projects.ts, so the bare loop
// runs the very statement listProjects() runs, minus the RLS context and the transaction.
const PROJECT_COLUMNS = `id, user_id, name, description, status, deleted_at, metadata, tabs_version::text,
  last_active_at, created_at, updated_at`;

const cores = navigator.hardwareConcurrency;
const log = (line: string) => console.error(`[bench:api] ${line}`);
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const watchdog = setTimeout(() => {
  console.error(`[bench:api] overall deadline of ${OVERALL_DEADLINE_MS / 60_000} min reached; exiting`);
  gateway?.child.kill("SIGKILL");
  Deno.exit(1);
}, OVERALL_DEADLINE_MS);

// ---------------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------------
interface Sample {
  count: number;
  errors: number;
  seconds: number;
  latencies: number[];
  statuses: Map<number, number>;
  /** CPU seconds used meanwhile by this process, the gateway, and everything else on the machine. */
  cpu: { client: number; gateway: number; rest: number } | undefined;
}

const emptySample = (): Sample => ({
  count: 0,
  errors: 0,
  seconds: 0,
  latencies: [],
  statuses: new Map(),
  cpu: { client: 0, gateway: 0, rest: 0 },
});

// CPU accounting from /proc (Linux; elsewhere the CPU columns stay empty). USER_HZ is 100.
const TICK = 0.01;
function readProc(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}
/** Busy CPU seconds of the whole machine (all cores) so far. */
function machineBusy(): number | undefined {
  const line = readProc("/proc/stat")?.split("\n")[0];
  if (!line?.startsWith("cpu ")) return undefined;
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(
    Number,
  );
  return (user + nice + system + irq + softirq + (steal ?? 0)) * TICK;
}
/** CPU seconds (user + system) of one process so far. */
function processCpu(pid: number): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK;
}
function cpuSnapshot(gatewayPid?: number) {
  return {
    machine: machineBusy(),
    client: processCpu(Deno.pid),
    gateway: gatewayPid === undefined ? 0 : processCpu(gatewayPid),
  };
}

/**
 * Runs `op` in `concurrency` loops until `seconds` have passed. `op` returns an HTTP-like status
 * (200 when not HTTP) or throws; only 2xx count as successes.
 */
async function run(
  seconds: number,
  concurrency: number,
  op: (worker: number) => Promise<number>,
  into: Sample = emptySample(),
  gatewayPid?: number,
): Promise<Sample> {
  const before = cpuSnapshot(gatewayPid);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    while (performance.now() < deadline) {
      const t = performance.now();
      let status: number;
      try {
        status = await op(worker);
      } catch {
        status = 0;
      }
      into.statuses.set(status, (into.statuses.get(status) ?? 0) + 1);
      if (status >= 200 && status < 300) {
        into.count++;
        into.latencies.push(performance.now() - t);
      } else {
        into.errors++;
      }
    }
  }));
  into.seconds += (performance.now() - started) / 1000;
  const after = cpuSnapshot(gatewayPid);
  if (
    into.cpu && before.machine !== undefined && after.machine !== undefined && before.client !== undefined &&
    after.client !== undefined && before.gateway !== undefined && after.gateway !== undefined
  ) {
    const client = after.client - before.client;
    const gateway = after.gateway - before.gateway;
    into.cpu.client += client;
    into.cpu.gateway += gateway;
    into.cpu.rest += Math.max(0, after.machine - before.machine - client - gateway);
  } else {
    into.cpu = undefined;
  }
  return into;
}

/** Share of the machine busy with other work (before we start), over one second. */
async function backgroundLoad(): Promise<number | undefined> {
  const before = machineBusy();
  await sleep(1000);
  const after = machineBusy();
  return before === undefined || after === undefined ? undefined : (after - before) / cores;
}

function merge(into: Sample, from: Sample): void {
  into.count += from.count;
  into.errors += from.errors;
  into.seconds += from.seconds;
  for (const latency of from.latencies) into.latencies.push(latency);
  for (const [status, n] of from.statuses) into.statuses.set(status, (into.statuses.get(status) ?? 0) + n);
  if (into.cpu && from.cpu) {
    into.cpu.client += from.cpu.client;
    into.cpu.gateway += from.cpu.gateway;
    into.cpu.rest += from.cpu.rest;
  } else {
    into.cpu = undefined;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Figures {
  rate: number;
  p50: number;
  p99: number;
  count: number;
  errors: number;
  /** CPU microseconds per successful operation: load generator, gateway, Postgres and the rest. */
  clientUs?: number;
  gatewayUs?: number;
  restUs?: number;
}

function figures(sample: Sample): Figures {
  const sorted = Float64Array.from(sample.latencies).sort() as unknown as number[];
  return {
    rate: sample.count / sample.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    count: sample.count,
    errors: sample.errors,
    clientUs: sample.cpu && (sample.cpu.client / sample.count) * 1e6,
    gatewayUs: sample.cpu && (sample.cpu.gateway / sample.count) * 1e6,
    restUs: sample.cpu && (sample.cpu.rest / sample.count) * 1e6,
  };
}

const randomInt = (n: number) => Math.floor(Math.random() * n);

// ---------------------------------------------------------------------------------------------
// (a) Driver loop
// ---------------------------------------------------------------------------------------------
function claimsFor(sub: string): UserClaims {
  // The shape of a verified Clerk session token, as the API hands it to queryAsUser.
  const now = Math.floor(Date.now() / 1000);
  return {
    sub,
    sid: "sess_bench",
    v: 2,
    azp: DEV_APP_ORIGIN,
    iss: devIssuer(port("GATEWAY_PORT")),
    iat: now,
    nbf: now - 5,
    exp: now + 3600,
  };
}

async function driverLoop(plan: DatasetPlan) {
  configureDatabase({ url: DB_URL, poolSize: POOL, prepare: true, statementTimeoutMs: STATEMENT_TIMEOUT_MS });
  const poolOptions = {
    max: POOL,
    prepare: true,
    connect_timeout: 3,
    idle_timeout: 30,
    onnotice: () => {},
    // The functions' pool reads timestamptz as text (_shared/timestamps.ts); so do these.
    types: { timestamptz: timestamptzAsText },
  };
  const bare = postgres(DB_URL, { ...poolOptions, connection: { application_name: "bench-bare" } });
  const naive = postgres(DB_URL, { ...poolOptions, connection: { application_name: "bench-naive" } });
  const rls = database();

  const randomUser = () => benchUserId(plan, randomInt(plan.users));

  const variants: Record<"bare" | "rls" | "naive", () => Promise<number>> = {
    bare: async () => {
      const sub = randomUser();
      await bare`
        select ${bare.unsafe(PROJECT_COLUMNS)}, updated_at::text as cursor_updated_at
        from public.projects
        where user_id = ${sub} and status = any(${STATUSES}::text[])
        order by updated_at desc, id desc
        limit ${PAGE + 1}`;
      return 200;
    },
    rls: async () => {
      const claims = claimsFor(randomUser());
      await queryAsUser(
        claims,
        (tx) => listProjects(tx, claims.sub, { statuses: ["active", "archived"], limit: PAGE }),
      );
      return 200;
    },
    naive: async () => {
      const claims = claimsFor(randomUser());
      await naive.begin(async (tx) => {
        await tx`
          select set_config('role', 'authenticated', true),
                 set_config('request.jwt.claims', ${
          JSON.stringify({ ...claims, role: "authenticated" })
        }, true),
                 set_config('statement_timeout', ${String(STATEMENT_TIMEOUT_MS)}, true)`;
        return await tx`
          select ${tx.unsafe(PROJECT_COLUMNS)}, updated_at::text as cursor_updated_at
          from public.projects
          where user_id = ${claims.sub} and status = any(${STATUSES}::text[])
          order by updated_at desc, id desc
          limit ${PAGE + 1}`;
      });
      return 200;
    },
  };

  // Warm-up: open every connection, prepare statements.
  for (const [name, op] of Object.entries(variants)) {
    log(`(a) warm-up ${name}`);
    await run(1, CONCURRENCY, op);
  }
  // Short interleaved rounds, order reversed every round, so drift (other work on the machine)
  // hits every variant alike; the per-round RLS/bare ratios show how steady the figure is.
  const samples = { bare: emptySample(), rls: emptySample(), naive: emptySample() };
  const roundRatios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = (round % 2 === 0 ? ["bare", "rls", "naive"] : ["naive", "rls", "bare"]) as Array<
      keyof typeof variants
    >;
    const rates: Partial<Record<keyof typeof variants, number>> = {};
    for (const name of order) {
      log(`(a) round ${round + 1}/${ROUNDS}: ${name} for ${DURATION_S / ROUNDS} s`);
      const slice = await run(DURATION_S / ROUNDS, CONCURRENCY, variants[name]);
      rates[name] = slice.count / slice.seconds;
      merge(samples[name], slice);
    }
    roundRatios.push(rates.rls! / rates.bare!);
  }
  await Promise.all([bare.end({ timeout: 5 }), naive.end({ timeout: 5 }), rls.end({ timeout: 5 })]);
  return {
    bare: figures(samples.bare),
    rls: figures(samples.rls),
    naive: figures(samples.naive),
    roundRatios,
  };
}

/** EXPLAIN ANALYZE of the listProjects statement under RLS, as one bench user. */
async function planUnderRls(sql: postgres.Sql, sub: string): Promise<string> {
  const claims = JSON.stringify({ ...claimsFor(sub), role: "authenticated" });
  const lines = await sql.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`;
    const rows = await tx.unsafe(
      `explain (analyze, buffers, costs off)
       select ${PROJECT_COLUMNS}, updated_at::text as cursor_updated_at
       from public.projects
       where user_id = $1 and status = any($2::text[])
       order by updated_at desc, id desc
       limit ${PAGE + 1}`,
      [sub, STATUSES],
    );
    return rows.map((row) => String(row["QUERY PLAN"]));
  }).catch((error) => [`(explain failed: ${error.message})`]);
  const scan = lines.find((line) => /Scan/.test(line))?.trim().replace(/\s+\(actual.*$/, "") ?? "?";
  const filter = lines.find((line) => /Filter:/.test(line))?.trim() ?? "";
  const time = lines.find((line) => /Execution Time/.test(line))?.trim() ?? "";
  return `${scan}${filter ? `; ${filter}` : ""}; ${time}`;
}

// ---------------------------------------------------------------------------------------------
// (b) HTTP through a gateway process
// ---------------------------------------------------------------------------------------------
interface Gateway {
  url: string;
  child: Deno.ChildProcess;
  stderrTail: string[];
}
let gateway: Gateway | undefined;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * tools/gateway.ts on a free port, wired to the dev issuer of that port. Its request log
 * (stdout) is discarded; stderr is drained (a full pipe would stall the server) and its last
 * lines kept for diagnosis.
 */
async function startGateway(port: number): Promise<Gateway> {
  const env = Deno.env.toObject();
  delete env.CLERK_JWKS_URL;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../tools/gateway.ts", import.meta.url).pathname, "--port", String(port)],
    env: {
      ...env,
      SUPABASE_DB_URL: DB_URL,
      DB_POOL_SIZE: String(POOL),
      CLERK_ISSUER: devIssuer(port),
      CLERK_AUTHORIZED_PARTIES: DEV_APP_ORIGIN,
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrTail: string[] = [];
  (async () => {
    const decoder = new TextDecoderStream();
    for await (const chunk of child.stderr.pipeThrough(decoder)) {
      stderrTail.push(...chunk.split("\n").filter((line) => line.trim() !== ""));
      stderrTail.splice(0, Math.max(0, stderrTail.length - 20));
    }
  })().catch(() => {});
  const url = `http://127.0.0.1:${port}/functions/v1`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the gateway did not come up: ${stderrTail.join("\n")}`);
    }
    await sleep(200);
  }
  return { url, child, stderrTail };
}

async function stopGateway(g: Gateway) {
  try {
    g.child.kill("SIGTERM");
  } catch {
    // already gone
  }
  const status = await Promise.race([g.child.status, sleep(5_000).then(() => undefined)]);
  if (!status) g.child.kill("SIGKILL");
}

async function request(url: string, init: RequestInit): Promise<Response> {
  return await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
}

interface OwnedProject {
  id: string;
  token: string;
  etag: string;
  original: Array<{ id: string; title: string; kind: string; metadata: Record<string, unknown> }>;
  list: Array<{ id: string; title: string; kind: string; metadata: Record<string, unknown> }>;
}

async function httpBench(plan: DatasetPlan, admin: postgres.Sql) {
  const port = freePort();
  const issuer = devIssuer(port);
  log(`(b) starting the gateway on 127.0.0.1:${port} (DB_POOL_SIZE ${POOL})`);
  gateway = await startGateway(port);
  const base = `${gateway.url}/api`;

  // Distinct users, one token each, minted up front (not part of the measurement).
  const mintStarted = performance.now();
  const users = new Set<number>();
  while (users.size < Math.min(TOKENS, plan.users)) users.add(randomInt(plan.users));
  const tokens: string[] = [];
  for (const n of users) {
    tokens.push(await mintSessionToken(benchUserId(plan, n), { issuer, expiresIn: 3600 }));
  }
  const mintSeconds = (performance.now() - mintStarted) / 1000;
  log(`(b) minted ${fmt(tokens.length)} tokens in ${mintSeconds.toFixed(1)} s`);

  const getProjects = async (worker: number, pick: () => string) => {
    const response = await request(`${base}/projects`, {
      headers: { authorization: `Bearer ${pick()}`, "x-request-id": `bench-get-${worker}` },
    });
    await response.arrayBuffer();
    return response.status;
  };
  const randomToken = () => tokens[randomInt(tokens.length)];

  log("(b) warm-up GET /projects (2 s)");
  await run(2, CONCURRENCY, (w) => getProjects(w, randomToken));
  log(`(b) GET /projects for ${HTTP_DURATION_S} s`);
  const gatewayPid = gateway.child.pid;
  const getSample = await run(
    HTTP_DURATION_S,
    CONCURRENCY,
    (w) => getProjects(w, randomToken),
    emptySample(),
    gatewayPid,
  );

  // PUT: each worker owns PROJECTS_PER_PUT_WORKER active projects of distinct users.
  const wanted = CONCURRENCY * PROJECTS_PER_PUT_WORKER;
  const candidates = await admin<{ id: string; user_id: string }[]>`
    select id, user_id from public.projects
    where user_id >= ${userIdRange(plan)[0]} and user_id < ${userIdRange(plan)[1]} and status = 'active'
    order by random() limit ${wanted * 3}`;
  const byUser = new Map<string, string>();
  for (const row of candidates) if (!byUser.has(row.user_id)) byUser.set(row.user_id, row.id);
  const picked = [...byUser.entries()].slice(0, wanted);
  const [{ watermark }] = await admin<{ watermark: string | null }[]>`
    select max(id)::text as watermark from public.workspace_history`;

  const owned: OwnedProject[] = [];
  for (const [userId, projectId] of picked) {
    const token = await mintSessionToken(userId, { issuer, expiresIn: 3600 });
    const response = await request(`${base}/projects/${projectId}/tabs`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await response.json();
    if (!response.ok) throw new Error(`GET tabs of ${projectId}: ${response.status} ${JSON.stringify(body)}`);
    const original = (body.data as OwnedProject["original"]).map(({ id, title, kind, metadata }) => ({
      id,
      title,
      kind,
      metadata,
    }));
    const list = [...original];
    while (list.length < TABS_PER_PUT) {
      list.push({
        id: crypto.randomUUID(),
        title: `Bench tab ${list.length + 1}`,
        kind: "notes",
        metadata: {},
      });
    }
    owned.push({ id: projectId, token, etag: response.headers.get("etag")!, original, list });
  }
  log(`(b) ${owned.length} projects of ${owned.length} users, ${PROJECTS_PER_PUT_WORKER} per worker`);

  let preconditionFailed = 0;
  const putTabs = async (project: OwnedProject, tabs: OwnedProject["list"]) => {
    const response = await request(`${base}/projects/${project.id}/tabs`, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${project.token}`,
        "content-type": "application/json",
        "if-match": project.etag,
      },
      body: JSON.stringify({ tabs }),
    });
    await response.arrayBuffer();
    const etag = response.headers.get("etag");
    if (etag) project.etag = etag; // 200, and 412 names the current version too
    if (response.status === 412) preconditionFailed++;
    return response.status;
  };
  const turn = new Array<number>(CONCURRENCY).fill(0);
  const putOp = (worker: number) => {
    const mine = owned.filter((_, index) => index % CONCURRENCY === worker);
    if (mine.length === 0) return Promise.resolve(0);
    const project = mine[turn[worker]++ % mine.length];
    // Drag the first tab to the end: every position changes (20 updates, 20 history events).
    project.list = [...project.list.slice(1), project.list[0]];
    return putTabs(project, project.list);
  };
  let putSample: Sample;
  let warmup412: number;
  let measured412: number;
  try {
    log("(b) warm-up PUT /projects/:id/tabs (1 s)");
    await run(1, CONCURRENCY, putOp);
    warmup412 = preconditionFailed;
    preconditionFailed = 0;
    log(`(b) PUT /projects/:id/tabs for ${HTTP_DURATION_S} s`);
    putSample = await run(HTTP_DURATION_S, CONCURRENCY, putOp, emptySample(), gatewayPid);
    measured412 = preconditionFailed;
  } finally {
    // Leave the data set as generated: original tab lists back, the benchmark's history rows out.
    log("(b) restoring the original tab lists");
    let restored = 0;
    for (const project of owned) {
      // A second try picks up the ETag a 412 returns (if a request was cut off mid-flight).
      for (let attempt = 0; attempt < 2; attempt++) {
        if (await putTabs(project, project.original).catch(() => 0) === 200) {
          restored++;
          break;
        }
      }
    }
    const removed = await admin`
      delete from public.workspace_history
      where id > ${watermark ?? "0"}::bigint and project_id = any(${owned.map((p) => p.id)}::uuid[])`;
    log(
      `(b) restored ${restored}/${owned.length} tab lists, removed ${
        fmt(removed.count)
      } history rows written here`,
    );
  }

  const stderrTail = [...gateway.stderrTail];
  await stopGateway(gateway);
  gateway = undefined;
  return {
    get: { ...figures(getSample), statuses: getSample.statuses },
    put: { ...figures(putSample), statuses: putSample.statuses, preconditionFailed: measured412, warmup412 },
    tokens: tokens.length,
    mintSeconds,
    putProjects: owned.length,
    stderrTail,
  };
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------
const plan = datasetPlan(SCALE);
log(`ensuring the scale-${SCALE} data set`);
const dataset = await ensureDataset(SCALE, { dbUrl: DB_URL });
const admin = postgres(DB_URL, { max: 2, onnotice: () => {}, connection: { application_name: "bench-api" } });

try {
  const [{ version }] = await admin`select current_setting('server_version') as version`;
  const heavyPlan = await planUnderRls(admin, benchUserId(plan, 0));
  const typicalPlan = await planUnderRls(admin, benchUserId(plan, plan.users - 1));
  const background = await backgroundLoad();

  const driver = await driverLoop(plan);
  const http = await httpBench(plan, admin);

  const counts = dataset.counts;
  const line = (cells: string[], widths: number[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(" ");
  const ms = (value: number) => fmt(value, 2);
  const us = (value: number | undefined) => (value === undefined ? "-" : fmt(value));
  const statuses = (map: Map<number, number>) =>
    [...map.entries()].sort(([a], [b]) => a - b).map(([status, n]) => `${status || "network"}: ${fmt(n)}`)
      .join(", ");

  const out: string[] = [];
  out.push("");
  out.push("API benchmark (figures, not assertions)");
  out.push(
    `  data set: scale ${SCALE} - ${fmt(counts.users ?? plan.users)} users, ` +
      `${fmt(counts.projects ?? plan.projects)} projects, ${fmt(counts.tabs ?? plan.tabs)} tabs, ` +
      `${fmt(counts.history ?? plan.history)} history rows (${plan.userPrefix}*)`,
  );
  out.push(
    `  machine: ${cores} CPU cores shared by this load generator, the gateway and Postgres ` +
      `${
        String(version).split(" ")[0]
      } (all on 127.0.0.1): absolute figures are bounded by that; compare ratios`,
  );
  if (background !== undefined) {
    out.push(
      `  other work on the machine just before the run: ${fmt(background * 100)}% of its CPU` +
        (background > 0.2 ? " (busy: figures are noisier than usual)" : ""),
    );
  }
  out.push(
    `  settings: ${CONCURRENCY} concurrent workers; postgres.js pool ${POOL} for each variant and for the ` +
      `gateway (DB_POOL_SIZE); (a) ${DURATION_S} s per variant in ${ROUNDS} interleaved rounds, ` +
      `(b) ${HTTP_DURATION_S} s per route`,
  );
  out.push(`  plan under RLS, heavy user (${fmt(plan.heavyProjectsPerUser)} projects): ${heavyPlan}`);
  out.push(`  plan under RLS, typical user: ${typicalPlan}`);
  out.push(
    "  CPU columns: microseconds of CPU per successful request, load generator (this process) | " +
      "gateway process | the rest of the machine (Postgres, and anything else running)",
  );
  out.push("");
  out.push("(a) driver loop: first page (20) of a random bench user's projects, postgres.js");
  const wa = [44, 10, 8, 8, 8, 9, 9, 7];
  out.push(
    line(["  variant", "queries/s", "p50 ms", "p99 ms", "vs bare", "client us", "rest us", "errors"], wa),
  );
  const rows: Array<[string, Figures]> = [
    ["  bare statement (owner, no RLS, no tx)", driver.bare],
    ["  RLS, production (queryAsUser, pipelined)", driver.rls],
    ["  RLS, naive sql.begin (awaited 1 by 1)", driver.naive],
  ];
  for (const [name, f] of rows) {
    out.push(
      line([
        name,
        fmt(f.rate),
        ms(f.p50),
        ms(f.p99),
        fmt(f.rate / driver.bare.rate, 2),
        us(f.clientUs),
        us(f.restUs),
        fmt(f.errors),
      ], wa),
    );
  }
  out.push(
    `  ratio RLS request context / bare: ${fmt(driver.rls.rate / driver.bare.rate, 2)} (goal >= 0.5); ` +
      `median of rounds ${fmt(median(driver.roundRatios), 2)}; ` +
      `per round: ${driver.roundRatios.map((r) => fmt(r, 2)).join(" ")}`,
  );
  out.push(`  pipelined / naive sql.begin: ${fmt(driver.rls.rate / driver.naive.rate, 2)}x`);
  out.push("");
  out.push(
    `(b) HTTP via tools/gateway.ts, ${CONCURRENCY} connections, ${fmt(http.tokens)} distinct user tokens ` +
      `(minted up front in ${http.mintSeconds.toFixed(1)} s)`,
  );
  const wb = [24, 7, 8, 8, 7, 6, 4, 9, 10, 9];
  out.push(
    line([
      "  route",
      "req/s",
      "p50 ms",
      "p99 ms",
      "ok",
      "errors",
      "412",
      "client us",
      "gateway us",
      "rest us",
    ], wb),
  );
  for (
    const [name, f, conflicts] of [
      ["  GET /projects", http.get, "-"],
      ["  PUT /projects/:id/tabs", http.put, fmt(http.put.preconditionFailed)],
    ] as Array<[string, Figures, string]>
  ) {
    const otherErrors = f.errors - (name.includes("PUT") ? http.put.preconditionFailed : 0);
    out.push(
      line([
        name,
        fmt(f.rate),
        ms(f.p50),
        ms(f.p99),
        fmt(f.count),
        fmt(otherErrors),
        conflicts,
        us(f.clientUs),
        us(f.gatewayUs),
        us(f.restUs),
      ], wb),
    );
  }
  out.push(
    `  PUT: ${http.putProjects} projects (${PROJECTS_PER_PUT_WORKER} per worker, one owner each), ` +
      `${TABS_PER_PUT} tabs reordered per request; 412 during warm-up: ${http.put.warmup412}`,
  );
  out.push(`  statuses: GET {${statuses(http.get.statuses)}}  PUT {${statuses(http.put.statuses)}}`);
  out.push(
    `  ratio GET /projects throughput / bare driver loop: ${fmt(http.get.rate / driver.bare.rate, 2)}`,
  );
  if (http.get.errors + http.put.errors > 0 && http.stderrTail.length > 0) {
    out.push(`  gateway stderr (last lines): ${http.stderrTail.slice(-5).join(" | ")}`);
  }
  out.push("");
  out.push("summary");
  const ws = [40, 11, 8, 8];
  out.push(line(["  measurement", "per second", "p50 ms", "p99 ms"], ws));
  for (
    const [name, f] of [
      ["  (a) bare driver loop", driver.bare],
      ["  (a) RLS context, production path", driver.rls],
      ["  (a) RLS context, naive sql.begin", driver.naive],
      ["  (b) GET /projects over HTTP", http.get],
      ["  (b) PUT /projects/:id/tabs over HTTP", http.put],
    ] as Array<[string, Figures]>
  ) out.push(line([name, fmt(f.rate), ms(f.p50), ms(f.p99)], ws));
  out.push(
    `  (a) RLS / bare: ${fmt(driver.rls.rate / driver.bare.rate, 2)} (goal >= 0.5; median of ${ROUNDS} ` +
      `interleaved rounds ${fmt(median(driver.roundRatios), 2)})`,
  );
  out.push(`  (b) GET /projects / bare driver loop: ${fmt(http.get.rate / driver.bare.rate, 2)}`);
  out.push(`  note: ${cores} cores shared by the load generator, the gateway and Postgres`);
  console.log(out.join("\n"));
} finally {
  if (gateway) await stopGateway(gateway);
  await admin.end({ timeout: 5 });
  clearTimeout(watchdog);
}
