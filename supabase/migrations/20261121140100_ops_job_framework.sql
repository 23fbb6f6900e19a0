-- Purpose: the frame every lifecycle job runs in, so that adding a job is one migration:
--   * ops.jobs, the registry of the jobs this project declares (name = pg_cron job name, the
--     declared schedule and command, a description);
--   * ops.schedule_job() / ops.unschedule_job(): declare or remove a job; idempotent by name
--     (cron.schedule upserts by job name), so re-running a migration changes nothing;
--   * ops.try_lock_job(): the overlap guard, a transaction-scoped advisory lock per job name taken
--     with "try": a second run that overlaps returns at once as skipped instead of queueing, and
--     the lock goes away with the transaction whatever happens (commit, error, cancel);
--   * ops.finish_job() / ops.skip_job(): the result of a run, audited (counts only) through
--     ops.audit_job(), the one place jobs call the audit log;
--   * ops.job_health(): every job (declared here or scheduled by anyone): schedule, last run
--     status and duration, failures in the last 24 hours. Staff only (GET /admin/jobs).
-- Job bodies are plain functions (not procedures): they run inside the caller's transaction, so
-- they can be tested directly (pgTAP, rolled back) and keep `set search_path = ''`, which a
-- procedure that commits cannot. Each run is bounded instead (batch size x max batches, from
-- ops.settings) and reports `more: true` when the next run has to continue.
-- Objects: table ops.jobs (+ RLS, grants); functions ops.schedule_job(text, text, text, text),
-- ops.unschedule_job(text), ops.try_lock_job(text), ops.audit_job(text, text, jsonb),
-- ops.finish_job(text, timestamptz, jsonb), ops.skip_job(text), ops.require_staff(),
-- ops.job_health(); usage on schema
-- ops for authenticated (ops.job_health only).
-- Destructive: nothing.

create table ops.jobs (
  name text primary key
    constraint jobs_name_shape check (name ~ '^[a-z][a-z0-9-]{0,62}$'),
  schedule text not null
    constraint jobs_schedule_length check (char_length(schedule) between 1 and 100),
  command text not null
    constraint jobs_command_length check (char_length(command) between 1 and 1000),
  description text not null
    constraint jobs_description_length check (char_length(description) between 1 and 500),
  declared_at timestamptz not null default now()
);

comment on table ops.jobs is
  'Lifecycle jobs declared by migrations through ops.schedule_job(): the schedule and command they should have in cron.job. ops.job_health() compares the two.';
comment on column ops.jobs.name is 'The pg_cron job name (cron.job.jobname), kebab-case.';
comment on column ops.jobs.schedule is 'Declared cron schedule (UTC), e.g. ''7 * * * *''.';
comment on column ops.jobs.command is 'Declared command, a call of the job''s body function, e.g. ''select ops.purge_deleted_projects()''.';
comment on column ops.jobs.description is 'What the job does, for operators and GET /admin/jobs.';

alter table ops.jobs enable row level security;
revoke all on table ops.jobs from public, anon, authenticated, service_role;

create function ops.schedule_job(job_name text, schedule text, command text, description text)
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  insert into ops.jobs as j (name, schedule, command, description)
  values (job_name, schedule_job.schedule, schedule_job.command, schedule_job.description)
  on conflict (name) do update
    set schedule = excluded.schedule, command = excluded.command, description = excluded.description;
  -- cron.schedule with a name inserts or updates the job of that name: idempotent.
  return cron.schedule(job_name, schedule_job.schedule, schedule_job.command);
end;
$$;
comment on function ops.schedule_job(text, text, text, text) is
  'Declares a lifecycle job: records it in ops.jobs and schedules it with pg_cron under its name. Idempotent by name. Returns the cron job id.';

create function ops.unschedule_job(job_name text)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  removed boolean := false;
begin
  delete from ops.jobs j where j.name = job_name;
  if exists (select 1 from cron.job c where c.jobname = job_name and c.username = current_user) then
    removed := cron.unschedule(job_name);
  end if;
  return removed;
end;
$$;
comment on function ops.unschedule_job(text) is
  'Removes a lifecycle job from ops.jobs and from pg_cron (when scheduled). Returns whether a cron job was removed.';

create function ops.try_lock_job(job_name text)
returns boolean
language sql
volatile
security invoker
set search_path = ''
as $$
  select pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('ops.job'), pg_catalog.hashtext(job_name))
$$;
comment on function ops.try_lock_job(text) is
  'Overlap guard of a job: tries the transaction-scoped advisory lock (hashtext(''ops.job''), hashtext(name)). False when another run of the job holds it; never waits; released at the end of the transaction.';

-- The one call site of the audit log for jobs: if audit.append changes shape, only this changes.
create function ops.audit_job(action text, job_name text, details jsonb)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  perform audit.append(action, 'cron', 'job', job_name, details);
end;
$$;
comment on function ops.audit_job(text, text, jsonb) is
  'Appends a job outcome to the audit log (action job.completed or job.skipped, target cron.job <name>, details = counts only).';

create function ops.finish_job(job_name text, started_at timestamptz, counts jsonb)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  result jsonb;
begin
  result := jsonb_build_object(
    'job', job_name,
    'status', 'completed',
    'duration_ms', round(extract(epoch from clock_timestamp() - started_at) * 1000)::bigint
  ) || coalesce(counts, '{}'::jsonb);
  perform ops.audit_job('job.completed', job_name, result);
  return result;
end;
$$;
comment on function ops.finish_job(text, timestamptz, jsonb) is
  'Ends a job run: builds its result (job, status, duration_ms and the counts) and audits it.';

create function ops.skip_job(job_name text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  result jsonb := jsonb_build_object('job', job_name, 'status', 'skipped', 'reason', 'another run holds the job lock');
begin
  perform ops.audit_job('job.skipped', job_name, result);
  return result;
end;
$$;
comment on function ops.skip_job(text) is
  'Result of a run that found another run of the same job in progress (ops.try_lock_job false); audited.';

revoke all on function ops.schedule_job(text, text, text, text), ops.unschedule_job(text), ops.try_lock_job(text),
  ops.audit_job(text, text, jsonb), ops.finish_job(text, timestamptz, jsonb), ops.skip_job(text)
  from public, anon, authenticated, service_role;

-- Staff reads of operations data go through security definer functions that call this first:
-- API callers (anon, authenticated) must be staff per public.users.role; sessions without an API
-- role (the owner: operators in psql, pg_cron) pass.
create function ops.require_staff()
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if current_setting('role') in ('anon', 'authenticated') and not private.is_staff() then
    raise exception 'only staff can read operations data' using errcode = 'P0001', hint = 'http:403';
  end if;
end;
$$;
comment on function ops.require_staff() is
  'Raises P0001 (hint http:403) when an API caller (anon, authenticated) is not staff per public.users.role.';

-- Staff read of job health. Definer: cron.job and cron.job_run_details belong to the job owner.
create function ops.job_health()
returns table (
  name text,
  description text,
  managed boolean,
  scheduled boolean,
  active boolean,
  schedule text,
  declared_schedule text,
  command_matches boolean,
  last_status text,
  last_started_at timestamptz,
  last_finished_at timestamptz,
  last_duration_ms bigint,
  last_message text,
  runs_24h bigint,
  failures_24h bigint,
  last_failure_at timestamptz,
  last_failure_message text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  window_floor bigint;
begin
  perform ops.require_staff();

  if to_regclass('cron.job') is null then
    -- pg_cron missing: every declared job is reported as not scheduled.
    return query
      select j.name, j.description, true, false, false, null::text, j.schedule, null::boolean,
             null::text, null::timestamptz, null::timestamptz, null::bigint, null::text,
             0::bigint, 0::bigint, null::timestamptz, null::text
        from ops.jobs j
       order by j.name;
    return;
  end if;

  -- Runs that never started (pg_cron could not connect) carry no time at all; they count as
  -- recent when newer than the last run that started before the 24-hour window.
  select coalesce(max(d.runid), 0) into window_floor
    from cron.job_run_details d where d.start_time <= now() - interval '24 hours';

  return query
    with jobs as (
      select coalesce(j.name, c.jobname::text collate "default") as job_name, j.description as job_description,
             j.name is not null as is_managed, c.jobid, c.schedule as cron_schedule, c.command as cron_command,
             c.active as cron_active, j.schedule as job_schedule, j.command as job_command
        from ops.jobs j
        full join cron.job c on c.jobname = j.name
    )
    select jobs.job_name, jobs.job_description, jobs.is_managed, jobs.jobid is not null,
           coalesce(jobs.cron_active, false), jobs.cron_schedule, jobs.job_schedule,
           case when jobs.is_managed and jobs.jobid is not null then jobs.cron_command = jobs.job_command end,
           last_run.status, last_run.start_time, last_run.end_time,
           (extract(epoch from last_run.end_time - last_run.start_time) * 1000)::bigint,
           left(last_run.return_message, 500),
           coalesce(recent.runs, 0), coalesce(recent.failures, 0),
           last_failure.start_time, left(last_failure.return_message, 500)
      from jobs
      left join lateral (
        select d.status, d.start_time, d.end_time, d.return_message
          from cron.job_run_details d
         where d.jobid = jobs.jobid
         order by d.runid desc
         limit 1
      ) last_run on true
      left join lateral (
        select count(*) as runs, count(*) filter (where d.status = 'failed') as failures
          from cron.job_run_details d
         where d.jobid = jobs.jobid
           and (d.start_time > now() - interval '24 hours' or (d.start_time is null and d.runid > window_floor))
      ) recent on true
      left join lateral (
        select d.start_time, d.return_message
          from cron.job_run_details d
         where d.jobid = jobs.jobid and d.status = 'failed'
         order by d.runid desc
         limit 1
      ) last_failure on true
     order by jobs.job_name;
end;
$$;
comment on function ops.job_health() is
  'Every job declared in ops.jobs or scheduled in cron.job: actual vs declared schedule, active, last run (status, times, duration, message), runs and failures in the last 24 hours, last failure. Staff (GET /admin/jobs) and the owner only (P0001 hint http:403 for other users).';

revoke all on function ops.require_staff(), ops.job_health() from public, anon, authenticated, service_role;
grant usage on schema ops to authenticated;
grant execute on function ops.job_health() to authenticated;
