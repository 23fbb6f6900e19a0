-- Purpose: the lifecycle jobs that keep the database within its retention promises, and their
-- pg_cron schedules (UTC). Each body is a function of ops (callable directly: `select
-- ops.trim_workspace_history()`), reads its retention from ops.settings, takes the job's overlap
-- guard (ops.try_lock_job), works in batches of cleanup_batch_size rows per statement and at most
-- cleanup_max_batches batches per run (the result says more: true when the next run continues),
-- skips rows another transaction holds (FOR UPDATE SKIP LOCKED: a job never waits on a user's
-- request) and gives up on a table lock after 5 s rather than queue behind DDL; the outcome is
-- audited with counts only (ops.finish_job). Rows exactly at the retention boundary stay.
--   purge-deleted-projects  hourly   projects soft-deleted longer than project_retention, with
--                                    their tabs and history (history first, in batches; then the
--                                    projects, whose tabs cascade; the tab trigger writes no
--                                    history for cascaded deletes)
--   trim-workspace-history  hourly   workspace_history older than workspace_history_retention
--   prune-webhook-inbox     hourly   private.clerk_webhook_inbox older than webhook_inbox_retention
--   mark-inactive-users     daily    users.inactive_since for users unseen for user_inactive_after
--                                    (and clears marks that no longer hold)
--   prune-cron-history      daily    cron.job_run_details older than cron_history_retention
-- The daily audit head checkpoint is the audit log's own job (its migrations); GET /admin/jobs
-- lists it with these. DSAR jobs plug in the same way (docs/RUNBOOK.md).
-- Objects: functions ops.purge_deleted_projects(integer, integer),
-- ops.trim_workspace_history(integer, integer), ops.prune_webhook_inbox(integer, integer),
-- ops.mark_inactive_users(integer, integer), ops.prune_cron_history(integer, integer); five
-- pg_cron jobs (ops.jobs rows).
-- Destructive: the scheduled jobs delete data past its retention (that is their purpose).

create function ops.purge_deleted_projects(batch_size integer default null, max_batches integer default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  job constant text := 'purge-deleted-projects';
  started timestamptz := clock_timestamp();
  rows_per_batch integer := coalesce(batch_size, ops.setting_int('cleanup_batch_size'));
  batch_limit integer := coalesce(max_batches, ops.setting_int('cleanup_max_batches'));
  cutoff timestamptz;
  doomed uuid[];
  batches integer := 0;
  affected bigint;
  projects_deleted bigint := 0;
  tabs_deleted bigint := 0;
  history_deleted bigint := 0;
  more boolean := false;
begin
  if rows_per_batch < 1 or batch_limit < 1 then
    raise exception 'batch_size and max_batches must be positive' using errcode = '22023';
  end if;
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;
  cutoff := now() - ops.setting_interval('project_retention');

  loop
    if batches >= batch_limit then
      more := exists (select 1 from public.projects p where p.status = 'deleted' and p.deleted_at < cutoff);
      exit;
    end if;
    -- The oldest expired projects, locked: a restore in flight holds its row and is skipped, and
    -- no restore can start on a locked project until this run has committed.
    select coalesce(array_agg(expired.id), '{}') into doomed
      from (select p.id from public.projects p
             where p.status = 'deleted' and p.deleted_at < cutoff
             order by p.deleted_at, p.id
             limit rows_per_batch
             for update skip locked) expired;
    exit when cardinality(doomed) = 0;
    batches := batches + 1;

    -- History first, a batch per statement, so no single cascade deletes an unbounded number.
    delete from public.workspace_history h
     where h.id = any (array(
       select h2.id from public.workspace_history h2
        where h2.project_id = any (doomed)
        limit rows_per_batch
          for update skip locked));
    get diagnostics affected = row_count;
    if affected > 0 then
      history_deleted := history_deleted + affected;
      continue;
    end if;

    -- Then the projects; their tabs go by the foreign key cascade.
    select count(*) into affected from public.workspace_tabs t where t.project_id = any (doomed);
    tabs_deleted := tabs_deleted + affected;
    delete from public.projects p where p.id = any (doomed);
    get diagnostics affected = row_count;
    projects_deleted := projects_deleted + affected;
  end loop;

  return ops.finish_job(job, started, jsonb_build_object(
    'projects', projects_deleted, 'tabs', tabs_deleted, 'history', history_deleted,
    'batches', batches, 'more', more, 'cutoff', cutoff));
end;
$$;
comment on function ops.purge_deleted_projects(integer, integer) is
  'Job purge-deleted-projects: hard-deletes projects soft-deleted before now() - project_retention, their history (in batches) and tabs (cascade). Arguments override cleanup_batch_size / cleanup_max_batches. Returns the audited counts.';

create function ops.trim_workspace_history(batch_size integer default null, max_batches integer default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  job constant text := 'trim-workspace-history';
  started timestamptz := clock_timestamp();
  rows_per_batch integer := coalesce(batch_size, ops.setting_int('cleanup_batch_size'));
  batch_limit integer := coalesce(max_batches, ops.setting_int('cleanup_max_batches'));
  cutoff timestamptz;
  batches integer := 0;
  affected bigint;
  deleted bigint := 0;
  more boolean := false;
begin
  if rows_per_batch < 1 or batch_limit < 1 then
    raise exception 'batch_size and max_batches must be positive' using errcode = '22023';
  end if;
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;
  cutoff := now() - ops.setting_interval('workspace_history_retention');

  loop
    if batches >= batch_limit then
      more := exists (select 1 from public.workspace_history h where h.changed_at < cutoff);
      exit;
    end if;
    delete from public.workspace_history h
     where h.id = any (array(
       select h2.id from public.workspace_history h2
        where h2.changed_at < cutoff
        order by h2.changed_at
        limit rows_per_batch
          for update skip locked));
    get diagnostics affected = row_count;
    exit when affected = 0;
    batches := batches + 1;
    deleted := deleted + affected;
    exit when affected < rows_per_batch;
  end loop;

  return ops.finish_job(job, started, jsonb_build_object(
    'history', deleted, 'batches', batches, 'more', more, 'cutoff', cutoff));
end;
$$;
comment on function ops.trim_workspace_history(integer, integer) is
  'Job trim-workspace-history: deletes workspace_history events changed before now() - workspace_history_retention, in batches. Returns the audited counts.';

create function ops.prune_webhook_inbox(batch_size integer default null, max_batches integer default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  job constant text := 'prune-webhook-inbox';
  started timestamptz := clock_timestamp();
  rows_per_batch integer := coalesce(batch_size, ops.setting_int('cleanup_batch_size'));
  batch_limit integer := coalesce(max_batches, ops.setting_int('cleanup_max_batches'));
  cutoff timestamptz;
  batches integer := 0;
  affected bigint;
  deleted bigint := 0;
  more boolean := false;
begin
  if rows_per_batch < 1 or batch_limit < 1 then
    raise exception 'batch_size and max_batches must be positive' using errcode = '22023';
  end if;
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;
  -- At least 30 days (the setting's minimum): a delivery Svix retries or an operator replays is
  -- still found in the inbox and not applied twice.
  cutoff := now() - ops.setting_interval('webhook_inbox_retention');

  loop
    if batches >= batch_limit then
      more := exists (select 1 from private.clerk_webhook_inbox i where i.received_at < cutoff);
      exit;
    end if;
    delete from private.clerk_webhook_inbox i
     where i.svix_id = any (array(
       select i2.svix_id from private.clerk_webhook_inbox i2
        where i2.received_at < cutoff
        order by i2.received_at
        limit rows_per_batch
          for update skip locked));
    get diagnostics affected = row_count;
    exit when affected = 0;
    batches := batches + 1;
    deleted := deleted + affected;
    exit when affected < rows_per_batch;
  end loop;

  return ops.finish_job(job, started, jsonb_build_object(
    'deliveries', deleted, 'batches', batches, 'more', more, 'cutoff', cutoff));
end;
$$;
comment on function ops.prune_webhook_inbox(integer, integer) is
  'Job prune-webhook-inbox: deletes Clerk webhook deliveries received before now() - webhook_inbox_retention (at least 30 days), in batches. Returns the audited counts.';

create function ops.mark_inactive_users(batch_size integer default null, max_batches integer default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  job constant text := 'mark-inactive-users';
  started timestamptz := clock_timestamp();
  rows_per_batch integer := coalesce(batch_size, ops.setting_int('cleanup_batch_size'));
  batch_limit integer := coalesce(max_batches, ops.setting_int('cleanup_max_batches'));
  cutoff timestamptz;
  batches integer := 0;
  affected bigint;
  marked bigint := 0;
  cleared bigint := 0;
  more boolean := false;
begin
  if rows_per_batch < 1 or batch_limit < 1 then
    raise exception 'batch_size and max_batches must be positive' using errcode = '22023';
  end if;
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;
  cutoff := now() - ops.setting_interval('user_inactive_after');

  -- Marks that no longer hold (the idle time was raised, or activity was written with the
  -- trigger bypassed): seen again since the cutoff.
  loop
    exit when batches >= batch_limit;
    update public.users u set inactive_since = null
     where u.id = any (array(
       select u2.id from public.users u2
        where u2.inactive_since is not null
          and greatest(u2.last_active_at, u2.last_sign_in_at, u2.created_at) >= cutoff
        limit rows_per_batch
          for update skip locked));
    get diagnostics affected = row_count;
    exit when affected = 0;
    batches := batches + 1;
    cleared := cleared + affected;
    exit when affected < rows_per_batch;
  end loop;

  loop
    if batches >= batch_limit then
      more := exists (
        select 1 from public.users u
         where (u.inactive_since is null and greatest(u.last_active_at, u.last_sign_in_at, u.created_at) < cutoff)
            or (u.inactive_since is not null and greatest(u.last_active_at, u.last_sign_in_at, u.created_at) >= cutoff));
      exit;
    end if;
    update public.users u set inactive_since = now()
     where u.id = any (array(
       select u2.id from public.users u2
        where u2.inactive_since is null
          and greatest(u2.last_active_at, u2.last_sign_in_at, u2.created_at) < cutoff
        order by greatest(u2.last_active_at, u2.last_sign_in_at, u2.created_at)
        limit rows_per_batch
          for update skip locked));
    get diagnostics affected = row_count;
    exit when affected = 0;
    batches := batches + 1;
    marked := marked + affected;
    exit when affected < rows_per_batch;
  end loop;

  return ops.finish_job(job, started, jsonb_build_object(
    'marked', marked, 'cleared', cleared, 'batches', batches, 'more', more, 'cutoff', cutoff));
end;
$$;
comment on function ops.mark_inactive_users(integer, integer) is
  'Job mark-inactive-users: sets users.inactive_since for users not seen (greatest of last_active_at, last_sign_in_at, created_at) since now() - user_inactive_after, and clears it for marked users seen since. Returns the audited counts.';

create function ops.prune_cron_history(batch_size integer default null, max_batches integer default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  job constant text := 'prune-cron-history';
  started timestamptz := clock_timestamp();
  rows_per_batch integer := coalesce(batch_size, ops.setting_int('cleanup_batch_size'));
  batch_limit integer := coalesce(max_batches, ops.setting_int('cleanup_max_batches'));
  cutoff timestamptz;
  newer_than_cutoff bigint;
  batches integer := 0;
  affected bigint;
  deleted bigint := 0;
  more boolean := false;
begin
  if rows_per_batch < 1 or batch_limit < 1 then
    raise exception 'batch_size and max_batches must be positive' using errcode = '22023';
  end if;
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;
  cutoff := now() - ops.setting_interval('cron_history_retention');
  -- Runs that never started (e.g. connection failed) have no start_time. Run ids grow with time,
  -- so such a run is past the retention when its id is below that of the first run that started
  -- at or after the cutoff (none yet: they wait).
  select min(d.runid) into newer_than_cutoff from cron.job_run_details d where d.start_time >= cutoff;

  loop
    if batches >= batch_limit then
      more := exists (
        select 1 from cron.job_run_details d
         where d.start_time < cutoff or (d.start_time is null and d.runid < newer_than_cutoff));
      exit;
    end if;
    -- No index on start_time, but the table stays small once pruned.
    delete from cron.job_run_details d
     where d.runid = any (array(
       select d2.runid from cron.job_run_details d2
        where d2.start_time < cutoff or (d2.start_time is null and d2.runid < newer_than_cutoff)
        order by d2.runid
        limit rows_per_batch
          for update skip locked));
    get diagnostics affected = row_count;
    exit when affected = 0;
    batches := batches + 1;
    deleted := deleted + affected;
    exit when affected < rows_per_batch;
  end loop;

  return ops.finish_job(job, started, jsonb_build_object(
    'runs', deleted, 'batches', batches, 'more', more, 'cutoff', cutoff));
end;
$$;
comment on function ops.prune_cron_history(integer, integer) is
  'Job prune-cron-history: deletes pg_cron run history (cron.job_run_details) started before now() - cron_history_retention (runs that never started: older than the first run after the cutoff), in batches. Returns the audited counts.';

revoke all on function ops.purge_deleted_projects(integer, integer), ops.trim_workspace_history(integer, integer),
  ops.prune_webhook_inbox(integer, integer), ops.mark_inactive_users(integer, integer),
  ops.prune_cron_history(integer, integer)
  from public, anon, authenticated, service_role;

-- Schedules (UTC), minutes staggered so the jobs do not start together.
select ops.schedule_job('purge-deleted-projects', '7 * * * *', 'select ops.purge_deleted_projects()',
  'Hard-deletes projects soft-deleted longer than project_retention (default 30 days), with their tabs and history.');
select ops.schedule_job('trim-workspace-history', '17 * * * *', 'select ops.trim_workspace_history()',
  'Deletes workspace_history events older than workspace_history_retention (default 90 days).');
select ops.schedule_job('prune-webhook-inbox', '27 * * * *', 'select ops.prune_webhook_inbox()',
  'Deletes Clerk webhook inbox rows older than webhook_inbox_retention (default and minimum 30 days).');
select ops.schedule_job('mark-inactive-users', '37 2 * * *', 'select ops.mark_inactive_users()',
  'Marks users unseen for user_inactive_after (default 180 days) inactive; clears the mark of users seen again.');
select ops.schedule_job('prune-cron-history', '47 2 * * *', 'select ops.prune_cron_history()',
  'Deletes pg_cron run history (cron.job_run_details) older than cron_history_retention (default 14 days).');
