/**
 * SQL for lifecycle job health. Runs as the staff member (role authenticated): ops.job_health() is
 * a security definer function that checks staff itself (P0001, hint http:403) before it reads
 * cron.job and cron.job_run_details, which no API role can read directly.
 */
import type { Tx } from "../../_shared/db.ts";

export interface JobHealthRow {
  name: string;
  description: string | null;
  managed: boolean;
  scheduled: boolean;
  active: boolean;
  schedule: string | null;
  declared_schedule: string | null;
  command_matches: boolean | null;
  last_status: string | null;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_duration_ms: number | null;
  last_message: string | null;
  runs_24h: number;
  failures_24h: number;
  last_failure_at: string | null;
  last_failure_message: string | null;
}

/** Every job declared in ops.jobs or scheduled in cron.job, by name. */
export function listJobHealth(tx: Tx) {
  return tx<JobHealthRow[]>`
        select name, description, managed, scheduled, active, schedule, declared_schedule, command_matches,
               last_status, last_started_at, last_finished_at, last_duration_ms::float8 as last_duration_ms,
               last_message, runs_24h::int as runs_24h, failures_24h::int as failures_24h,
               last_failure_at, last_failure_message
          from ops.job_health()
      `;
}
