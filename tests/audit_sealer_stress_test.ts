/**
 * The audit sealer under concurrency (issue 11): while appenders of every shape write and the
 * sealer runs in a tight loop, no committed entry may ever be skipped and the chain must verify.
 *
 * Appenders (one connection each, looping until the end of the run):
 * - first-write: `begin; append; commit` - the append is the transaction's first write (no xid
 *   before it); some stay open a few milliseconds after the append, some roll back;
 * - autocommit: a single `select audit.append(...)`;
 * - savepoint: the append inside a savepoint, released or rolled back (a burnt id);
 * - exception: the append inside a PL/pgSQL exception block (a subtransaction), sometimes undone by
 *   an error the block catches;
 * - nested: several appends in one transaction, one of them in a savepoint rolled back;
 * - bulk-replica: appends from a session with session_replication_role = replica, every fourth
 *   statement 10 at once: the shape of bench/_data.ts's audit stage;
 * - pg_cron: two jobs run by background workers (this stack sets cron.use_background_workers),
 *   each appending in a loop, one transaction per append (COMMIT in a DO block), some inside
 *   exception blocks. pg_cron 1.4 (Debian's postgresql-15-cron 1.4.2) schedules by the minute
 *   only (second schedules arrived in 1.5), so the jobs start at the next minute boundary, the same
 *   second as the stack's own every-minute audit-seal job: the collision of the incident.
 * The sealer: `audit.seal()` back to back on its own connection, now and then with a short wait,
 * and an incremental `audit.verify()` every second to stop early once the chain is broken.
 *
 * The run lasts at least AUDIT_STRESS_SECONDS (default 15) and until the cron jobs have run (at
 * most ~70 s, waiting for the minute). Then everything is sealed and the chain is verified from
 * the head checkpointed before the run; every committed id must be sealed, every undone id absent.
 */
import { assert, assertEquals } from "@std/assert";
import postgres from "postgres";
import { DB_URL } from "./_support/env.ts";

const MIN_SECONDS = Number(Deno.env.get("AUDIT_STRESS_SECONDS") ?? "15");
/** AUDIT_STRESS_KEEP_GOING=1: run the whole time even once the chain is broken (to measure a fault). */
const KEEP_GOING = Deno.env.get("AUDIT_STRESS_KEEP_GOING") === "1";
const MAX_SECONDS = MIN_SECONDS + 80; // room to wait for the minute boundary and the jobs' run
const CRON_JOB_SECONDS = 6;

type Kind = "first-write" | "autocommit" | "savepoint" | "exception" | "nested" | "bulk-replica";

interface Tally {
  committed: bigint[];
  undone: bigint[];
  transactions: number;
}

const connect = (name: string) =>
  postgres(DB_URL, {
    max: 1,
    onnotice: () => {},
    idle_timeout: 5,
    connection: { application_name: `audit-stress-${name}` },
  });

/** Thrown inside a transaction or savepoint to roll it back on purpose. */
class Undo extends Error {}

function appendSql(tx: postgres.TransactionSql, run: string, kind: string) {
  return tx`select audit.append('test.stress', 'tests', 'sealer', null,
                                jsonb_build_object('run', ${run}::text, 'kind', ${kind}::text)) as id`;
}

/** One transaction of the given shape; records the ids that committed and those undone. */
async function appendOnce(sql: postgres.Sql, kind: Kind, run: string, n: number, tally: Tally) {
  tally.transactions++;
  const pending: bigint[] = [];
  const undone: bigint[] = [];
  try {
    if (kind === "bulk-replica") {
      // bench/_data.ts's shape: many appends in one statement, from a session in replica mode
      // (set by statement: the platform lets postgres SET it, not pass it at connect; audit.log's
      // guard trigger fires ALWAYS).
      const ids = await sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        const [row] = await tx`
          select array_agg(audit.append('test.stress', 'tests', 'sealer', null,
                                        jsonb_build_object('run', ${run}::text, 'kind', 'bulk-replica'))
                           order by g)::text[] as ids
            from generate_series(1, ${n % 4 === 0 ? 10 : 1}::int) g`;
        return row.ids as string[];
      });
      tally.committed.push(...ids.map(BigInt));
      return;
    }
    if (kind === "autocommit") {
      const [{ id }] = await sql`select audit.append('test.stress', 'tests', 'sealer', null,
        jsonb_build_object('run', ${run}::text, 'kind', 'autocommit')) as id`;
      tally.committed.push(BigInt(id));
      return;
    }
    await sql.begin(async (tx) => {
      if (kind === "first-write") {
        const [{ id }] = await appendSql(tx, run, kind);
        pending.push(BigInt(id));
        if (n % 4 === 0) await tx`select pg_sleep(0.003)`; // in flight a little longer
        if (n % 10 === 0) throw new Undo();
      } else if (kind === "savepoint") {
        await tx`select 1`; // a transaction without an xid yet
        await tx.savepoint(async (sp) => {
          const [{ id }] = await appendSql(sp, run, kind);
          pending.push(BigInt(id));
          if (n % 3 === 0) {
            pending.pop();
            undone.push(BigInt(id));
            throw new Undo();
          }
        }).catch((error) => {
          if (!(error instanceof Undo)) throw error;
        });
      } else if (kind === "exception") {
        const [{ id }] = await tx`select pg_temp.stress_append(${run}, ${n % 3 === 0}) as id`;
        const value = BigInt(id);
        if (value < 0n) undone.push(-value);
        else pending.push(value);
      } else {
        const [{ id: first }] = await appendSql(tx, run, "nested");
        pending.push(BigInt(first));
        await tx.savepoint(async (sp) => {
          const [{ id }] = await appendSql(sp, run, "nested-undone");
          undone.push(BigInt(id));
          throw new Undo();
        }).catch((error) => {
          if (!(error instanceof Undo)) throw error;
        });
        const [{ id: last }] = await appendSql(tx, run, "nested");
        pending.push(BigInt(last));
      }
    });
    tally.committed.push(...pending);
    tally.undone.push(...undone);
  } catch (error) {
    if (!(error instanceof Undo)) throw error;
    tally.undone.push(...pending, ...undone);
  }
}

/** The DO block a pg_cron job runs: appends in a loop, one transaction each, for a few seconds. */
function cronCommand(run: string, job: string, kind: string, hardStop: Date): string {
  return `do $job$
declare
  started timestamptz := clock_timestamp();
  n integer := 0;
begin
  if started >= '${hardStop.toISOString()}'::timestamptz then
    perform cron.unschedule('${job}'); -- left behind by an interrupted run: remove itself
    return;
  end if;
  while clock_timestamp() < started + interval '${CRON_JOB_SECONDS} seconds'
        and clock_timestamp() < '${hardStop.toISOString()}'::timestamptz loop
    n := n + 1;
    if n % 3 = 0 then
      begin
        perform audit.append('test.stress', 'tests', 'sealer', null,
                             jsonb_build_object('run', '${run}', 'kind', '${kind}-exception'));
        if n % 6 = 0 then
          raise exception 'undone on purpose' using errcode = 'P0001';
        end if;
      exception when sqlstate 'P0001' then
        null;
      end;
    else
      perform audit.append('test.stress', 'tests', 'sealer', null,
                           jsonb_build_object('run', '${run}', 'kind', '${kind}'));
    end if;
    commit;
    perform pg_sleep(0.001 * (n % 3));
  end loop;
end
$job$`;
}

Deno.test({
  name:
    "sealer stress: concurrent appenders, subtransactions, pg_cron workers and a sealer loop; the chain verifies",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const run = `stress-${crypto.randomUUID().slice(0, 8)}`;
    const admin = connect("admin");
    const sealer = connect("sealer");
    const kinds: Kind[] = [
      "first-write",
      "first-write",
      "autocommit",
      "savepoint",
      "exception",
      "nested",
      "bulk-replica",
    ];
    const workers = kinds.map((kind, i) => ({
      kind,
      sql: connect(`${kind}-${i}`),
    }));
    const jobNames = [`${run}-a`, `${run}-b`];
    // pg_cron starts the jobs at the next minute boundary. The client phase is placed to end when
    // they do (it starts at once when that leaves less than MIN_SECONDS), so the machine is busy
    // for about MIN_SECONDS whatever the wall-clock wait for the minute.
    const scheduled = Date.now();
    const boundary = Math.ceil((scheduled + 2000) / 60_000) * 60_000;
    const started = Math.max(Date.now(), boundary + CRON_JOB_SECONDS * 1000 - MIN_SECONDS * 1000);
    const hardStop = new Date(started + MAX_SECONDS * 1000);
    try {
      const jobIds: number[] = [];
      for (const [i, name] of jobNames.entries()) {
        const [{ jobid }] = await admin`
          select cron.schedule(${name}, '* * * * *', ${
          cronCommand(run, name, i === 0 ? "cron-a" : "cron-b", hardStop)
        })
            as jobid`;
        jobIds.push(Number(jobid));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started - Date.now())));

      // The checkpoint the run is verified from: everything before it sealed, its hash kept here.
      await admin`select audit.seal(interval '30 seconds')`;
      const [base] = await admin`select last_id::text as id, encode(last_hash, 'hex') as hash
                                   from audit.seal_state`;

      // The exception-block appender: a session-local function (pg_temp), gone with the session.
      const exceptionWorker = workers.find((w) => w.kind === "exception")!;
      await exceptionWorker.sql.unsafe(`
        create function pg_temp.stress_append(run text, fail boolean) returns bigint
        language plpgsql as $fn$
        declare
          new_id bigint;
        begin
          begin
            new_id := audit.append('test.stress', 'tests', 'sealer', null,
                                   jsonb_build_object('run', run, 'kind', 'exception'));
            if fail then
              raise exception 'undone on purpose' using errcode = 'P0001';
            end if;
          exception when sqlstate 'P0001' then
            return -new_id; -- the subtransaction rolled back: a burnt id
          end;
          return new_id;
        end
        $fn$`);

      let stop = false;
      let broken: string | undefined;
      const tallies = new Map<number, Tally>();
      const appenders = workers.map(async ({ kind, sql }, i) => {
        const tally: Tally = { committed: [], undone: [], transactions: 0 };
        tallies.set(i, tally);
        for (let n = 1; !stop; n++) await appendOnce(sql, kind, run, n, tally);
      });

      let seals = 0;
      let sealedEntries = 0;
      let verifies = 0;
      const sealing = (async () => {
        let lastVerify = Date.now();
        let checkpoint = { id: base.id as string, hash: base.hash as string };
        while (!stop) {
          const wait = seals % 10 === 9 ? "20 milliseconds" : "0";
          const [{ sealed }] = await sealer`select audit.seal(${wait}::interval) as sealed`;
          seals++;
          sealedEntries += Number(sealed);
          if (Date.now() - lastVerify >= 1000) {
            lastVerify = Date.now();
            verifies++;
            // Incremental: from the last verified head (the whole run is verified at the end).
            const [check] = await sealer`
              select ok, first_bad_id::text, problem, head_id::text, head_hash
                from audit.verify(${checkpoint.id}::bigint, ${checkpoint.hash})`;
            if (!check.ok) {
              broken ??= `entry ${check.first_bad_id}: ${check.problem}`;
              if (!KEEP_GOING) stop = true;
            } else {
              checkpoint = { id: check.head_id, hash: check.head_hash };
            }
          }
        }
      })();

      // Until the minimum duration has passed and both cron jobs have run (or the chain broke).
      const cronRuns = new Map<number, { status: string; message: string | null }>();
      while (!stop) {
        const runs = await admin<{ jobid: number; status: string; return_message: string | null }[]>`
          select distinct on (jobid) jobid::int, status, return_message
            from cron.job_run_details where jobid = any(${jobIds}::bigint[])
           order by jobid, runid desc`;
        for (const r of runs) {
          const finished = ["succeeded", "failed"].includes(r.status);
          // One run each, its outcome as the worker recorded it. Not unscheduled while running:
          // pg_cron cancels the run of a removed job. The launcher still counts a run as running
          // for a moment after its worker recorded "succeeded", and an unschedule then rewrites
          // that run to "failed: job canceled" (seen in the pg_cron log as "COMMAND completed"
          // followed by "job canceled"), so the first final status seen is the one kept.
          if (finished && !cronRuns.has(r.jobid)) {
            cronRuns.set(r.jobid, { status: r.status, message: r.return_message });
            await admin`select cron.unschedule(${r.jobid}::bigint)`;
          }
        }
        const cronDone = jobIds.every((id) => cronRuns.has(id));
        const elapsed = (Date.now() - started) / 1000;
        if ((elapsed >= MIN_SECONDS && cronDone) || elapsed >= MAX_SECONDS) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      stop = true;
      await Promise.all([...appenders, sealing]);
      const seconds = (Date.now() - started) / 1000;

      // Seal what is left (nothing is in flight any more) and check the whole run.
      await admin`select audit.seal(interval '30 seconds')`;
      const [check] = await admin`
        select ok, checked::int, first_bad_id::text, problem, sealed_through::text
          from audit.verify(${base.id}::bigint, ${base.hash})`;
      const [missing] = await admin`
        select count(*)::int as n, min(l.id)::text as first,
               coalesce(string_agg(distinct l.details ->> 'kind', ', '), '') as kinds
          from audit.log l
         where l.id > ${base.id}::bigint and l.id <= (select sealed_through from audit.seal_state)
           and not exists (select 1 from audit.chain c where c.id = l.id)`;
      const [cron] = await admin`
        select count(*)::int as n, coalesce(array_agg(distinct actor order by actor), '{}') as actors
          from audit.log
         where action = 'test.stress' and details ->> 'run' = ${run} and details ->> 'kind' like 'cron-%'`;
      const committed = [...tallies.values()].flatMap((t) => t.committed);
      const undone = [...tallies.values()].flatMap((t) => t.undone);
      const transactions = [...tallies.values()].reduce((sum, t) => sum + t.transactions, 0);
      const [sealedOfRun] = await admin`
        select count(*)::int as n from audit.chain where id = any(${committed.map(String)}::bigint[])`;
      const [undoneInLog] = await admin`
        select count(*)::int as n from audit.log where id = any(${undone.map(String)}::bigint[])`;

      console.log(
        `sealer stress ${seconds.toFixed(1)} s (after ${((started - scheduled) / 1000).toFixed(0)} s ` +
          `waiting for the minute): ${transactions} client transactions, ${committed.length} ` +
          `committed appends, ${undone.length} undone, ${cron.n} pg_cron appends ` +
          `(${[...cronRuns.values()].map((r) => r.status).join("/") || "no run"}); ${seals} seal() calls ` +
          `sealed ${sealedEntries} entries, ${verifies} verifies; chain: ${
            check.ok ? "ok" : `BROKEN at ${check.first_bad_id} (${check.problem})`
          }; ${missing.n} entries skipped by the sealer${
            missing.n ? ` (first ${missing.first}; kinds: ${missing.kinds})` : ""
          }`,
      );

      assertEquals(broken, undefined, "the chain verified throughout the run");
      assertEquals(
        [check.ok, check.first_bad_id, check.problem],
        [true, null, null],
        `audit.verify() after the run (${missing.n} committed entries skipped by the sealer)`,
      );
      assertEquals(missing.n, 0, "no entry below the sealed horizon is missing from the chain");
      assertEquals(sealedOfRun.n, committed.length, "every committed client append is sealed");
      assertEquals(undoneInLog.n, 0, "no rolled-back append is in the log");
      for (const id of jobIds) {
        const r = cronRuns.get(id);
        assertEquals(r?.status, "succeeded", `pg_cron job ${id} ran: ${r?.message ?? "no run"}`);
      }
      assert(cron.n > 0, "the pg_cron background workers appended");
      assertEquals(
        cron.actors,
        jobNames.map((name) => `cron:${name}`).sort(),
        "entries written by a pg_cron background worker name their job",
      );
      assert(committed.length > 100, "the client appenders appended");
    } finally {
      await admin`select cron.unschedule(jobid) from cron.job where jobname = any(${jobNames})`.catch(
        () => {},
      );
      await Promise.all([admin, sealer, ...workers.map((w) => w.sql)].map((sql) => sql.end({ timeout: 5 })));
    }
  },
});
