/**
 * Audit append throughput under a webhook burst, and verification time.
 *
 *   deno run -A bench/audit.ts [--appends 20000] [--seconds 20] [--connections 32]
 *
 * 32 connections (postgres.js) append concurrently through audit.append(), in two phases:
 *   raw      one append per transaction (`select audit.append(...)`, autocommit): the log's own
 *            ceiling;
 *   webhook  each append in a transaction shaped like a webhook's (begin, service-role context with
 *            the actor and request id, append, commit; pipelined as _shared/db.ts does).
 *   baseline the webhook-shaped transaction without the append (what this machine allows at all),
 *            to print the share of it the append keeps.
 * Each phase stops after --appends entries or --seconds, whichever comes first (the webhook and
 * baseline phases get half of each). Then it seals, verifies the part appended by the run (from the head
 * checkpointed before it) and the whole chain, and prints appends/s, latencies, seal and verify
 * times, and whether the chain is intact. Goal: >= 2,000 appends/s with the chain intact.
 *
 * The entries are real (action bench.append, actor audit-bench): the log is append-only. They
 * leave with the regular retention (docs/RUNBOOK.md, "Audit log").
 */
import postgres from "postgres";
import { dbUrl } from "../tools/settings.ts";
import { benchOptions } from "./_options.ts";

const DB_URL = dbUrl();

const options = benchOptions("audit");
const TOTAL = options.number("--appends", 20_000);
const SECONDS = options.number("--seconds", 20);
const CONNECTIONS = options.number("--connections", 32);
options.ignoreTheRest();
const GOAL = 2_000;

const sql = postgres(DB_URL, {
  max: CONNECTIONS,
  onnotice: () => {},
  connection: { application_name: "audit-bench" },
});

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

type Append = (tx: postgres.ReservedSql, worker: number, n: number) => Promise<unknown>;

const claims = JSON.stringify({ role: "service_role", actor: "audit-bench" });

/** One autocommit statement per append. */
const rawAppend: Append = (tx, worker, n) =>
  tx`select audit.append('bench.append', 'bench', 'events', ${String(n)}, ${tx.json({ n, worker })}::jsonb)`;

/** A webhook-shaped transaction: the four statements leave together (one round trip). */
const webhookAppend: Append = (tx, worker, n) =>
  Promise.all([
    tx`begin`,
    tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', ${claims}, true),
              set_config('request.id', ${`bench-${worker}-${n}`}, true)`,
    tx`select audit.append('bench.append', 'bench', 'events', ${String(n)}, ${
      tx.json({ n, worker })
    }::jsonb)`,
    tx`commit`,
  ]);

/** The same webhook-shaped transaction without the append: what the append adds to a webhook. */
const webhookBaseline: Append = (tx, worker, n) =>
  Promise.all([
    tx`begin`,
    tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', ${claims}, true),
              set_config('request.id', ${`bench-${worker}-${n}`}, true)`,
    tx`select ${String(n)}::text, ${tx.json({ n, worker })}::jsonb`,
    tx`commit`,
  ]);

interface PhaseResult {
  name: string;
  appended: number;
  failed: number;
  elapsedMs: number;
  rate: number;
  latencies: number[];
}

async function phase(name: string, append: Append, total: number, seconds: number): Promise<PhaseResult> {
  const latencies: number[] = [];
  let issued = 0;
  let failed = 0;
  const deadline = performance.now() + seconds * 1000;
  async function worker(index: number): Promise<void> {
    const tx = await sql.reserve();
    try {
      while (issued < total && performance.now() < deadline) {
        const n = issued++;
        const started = performance.now();
        try {
          await append(tx, index, n);
          latencies.push(performance.now() - started);
        } catch {
          failed++;
          await tx`rollback`.catch(() => {});
        }
      }
    } finally {
      tx.release();
    }
  }
  const [, elapsedMs] = await timed(() =>
    Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => worker(i)))
  );
  latencies.sort((a, b) => a - b);
  return {
    name,
    appended: latencies.length,
    failed,
    elapsedMs,
    rate: latencies.length / (elapsedMs / 1000),
    latencies,
  };
}

// Checkpoint before the run: the run's own entries can then be verified incrementally.
const [before] = await sql`select id::text, hash from audit.head()`;

const phases = [
  await phase("raw", rawAppend, TOTAL, SECONDS),
  await phase("webhook", webhookAppend, Math.ceil(TOTAL / 2), SECONDS / 2),
];
// Not appends: the ceiling of the webhook-shaped transaction itself on this machine.
const baseline = await phase("baseline", webhookBaseline, Math.ceil(TOTAL / 2), SECONDS / 2);
const failed = phases.reduce((sum, p) => sum + p.failed, 0);

const [sealed, sealMs] = await timed(async () => {
  const [row] = await sql`select audit.seal(interval '60 seconds') as sealed`;
  return Number(row.sealed);
});
const [[run], runVerifyMs] = await timed(() =>
  sql`select ok, checked::int, first_bad_id::text, problem from audit.verify(${before.id}::bigint, ${before.hash})`
);
const [[full], fullVerifyMs] = await timed(() =>
  sql`select ok, checked::int, first_bad_id::text, problem, head_id::text from audit.verify()`
);
const [{ unsealed }] =
  await sql`select count(*)::int as unsealed from audit.log where id > (select sealed_through from audit.seal_state)`;
await sql.end();

const intact = run.ok && full.ok;
const lines = [`audit append benchmark: ${CONNECTIONS} concurrent connections`];
for (const p of phases) {
  lines.push(
    `  ${p.name.padEnd(8)} ${String(p.appended).padStart(6)} appends (${p.failed} failed) in ${
      (p.elapsedMs / 1000).toFixed(2)
    } s` +
      `   ${p.rate.toFixed(0)} appends/s (goal ${GOAL}: ${p.rate >= GOAL ? "met" : "NOT met"}, ${
        (p.rate / GOAL).toFixed(2)
      }x)` +
      `   latency p50 ${ms(percentile(p.latencies, 50))} p99 ${ms(percentile(p.latencies, 99))}`,
  );
}
lines.push(
  `  baseline ${String(baseline.appended).padStart(6)} webhook-shaped transactions without the append: ${
    baseline.rate.toFixed(0)
  }/s` +
    ` (the append keeps ${((phases[1].rate / baseline.rate) * 100).toFixed(0)}% of it)`,
  `  seal after the burst ${sealed} entries in ${ms(sealMs)}${
    unsealed ? ` (${unsealed} left for the next run)` : ""
  }`,
  `  verify (this run)    ${run.checked} entries in ${ms(runVerifyMs)}   ok: ${run.ok}${
    run.ok ? "" : ` (first bad ${run.first_bad_id}: ${run.problem})`
  }`,
  `  verify (whole chain) ${full.checked} entries in ${ms(fullVerifyMs)}   (${
    (full.checked / (fullVerifyMs / 1000)).toFixed(0)
  } entries/s)   ok: ${full.ok}${full.ok ? "" : ` (first bad ${full.first_bad_id}: ${full.problem})`}`,
  `  chain intact         ${intact ? "yes" : "NO"}   head ${full.head_id}`,
);
console.log(lines.join("\n"));
if (!intact || failed > 0) Deno.exit(1);
