/**
 * GET /jobs: every scheduled job (the lifecycle jobs declared in ops.jobs and jobs scheduled by
 * others, such as the audit log's), its schedule, last run status and duration, and failures in
 * the last 24 hours, with the problems an operator should look at. Staff only (../staff.ts;
 * ops.job_health() checks again in the database).
 */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { NoQuery } from "../../_shared/schemas.ts";
import { queryAsUser } from "../../_shared/db.ts";
import { listJobHealth } from "../repositories/jobs.ts";
import type { JobHealthRow } from "../repositories/jobs.ts";
import { JobList } from "../schemas.ts";

/** What needs attention for one job; empty when it is healthy. */
export function jobProblems(job: JobHealthRow): string[] {
  const problems: string[] = [];
  if (!job.scheduled) problems.push("not scheduled in pg_cron");
  else if (!job.active) problems.push("inactive in pg_cron");
  if (job.managed && job.scheduled && job.schedule !== job.declared_schedule) {
    problems.push(`schedule '${job.schedule}' differs from the declared '${job.declared_schedule}'`);
  }
  if (job.command_matches === false) problems.push("command differs from the declared one");
  if (job.last_status === "failed") problems.push("last run failed");
  if (job.failures_24h > 0) {
    problems.push(`${job.failures_24h} failed run${job.failures_24h === 1 ? "" : "s"} in the last 24 h`);
  }
  return problems;
}

/** The response shape of one job. */
export function presentJob(job: JobHealthRow) {
  return {
    name: job.name,
    description: job.description,
    managed: job.managed,
    scheduled: job.scheduled,
    active: job.active,
    schedule: job.schedule,
    declared_schedule: job.declared_schedule,
    last_run: job.last_status === null ? null : {
      status: job.last_status,
      started_at: job.last_started_at,
      finished_at: job.last_finished_at,
      duration_ms: job.last_duration_ms,
      message: job.last_message,
    },
    runs_24h: job.runs_24h,
    failures_24h: job.failures_24h,
    last_failure: job.last_failure_at === null && job.last_failure_message === null
      ? null
      : { at: job.last_failure_at, message: job.last_failure_message },
    problems: jobProblems(job),
  };
}

export const jobRoutes = new Hono<SessionEnv>()
  .get(
    "/",
    documented({
      summary: "Every scheduled job: schedule, last run, failures in 24 h, problems",
      responses: { 200: { description: "The jobs and whether all are healthy", schema: JobList } },
    }),
    validate("query", NoQuery),
    async (c) => {
      const rows = await queryAsUser(c.get("claims"), listJobHealth);
      const data = rows.map(presentJob);
      return c.json({ healthy: data.every((job) => job.problems.length === 0), data });
    },
  );
