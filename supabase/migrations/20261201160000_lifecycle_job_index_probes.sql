-- Purpose: the lifecycle jobs' `more` probes and purge-deleted-projects' history batch read by
-- index whatever the data looks like (bench/plans.ts, docs/DATABASE.md "Cleanup jobs").
--   * trim-workspace-history, purge-deleted-projects, prune-webhook-inbox: after their last batch,
--     `more := exists (select 1 ... where <ts> < cutoff)` was planned as a sequential scan that
--     stops at the first match when the planner expects many matches (bench:plans at scale 0.01 and
--     0.1 flagged it). Now the oldest timestamp is read from the table's index on it (one probe)
--     and compared with the cutoff.
--   * purge-deleted-projects: the history batch `project_id = any (doomed) limit n` became a
--     sequential scan of workspace_history with thousands of doomed projects; now a per-project
--     lateral read of workspace_history_project_id_user_id_id_idx.
-- Same signatures, results and locking (`for update skip locked`); grants and comments are kept
-- (create or replace).
-- Objects: functions ops.trim_workspace_history, ops.purge_deleted_projects, ops.prune_webhook_inbox.
-- Destructive: nothing.

create or replace function ops.purge_deleted_projects(batch_size integer default null, max_batches integer default null)
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
      -- One probe of projects_deleted_at_idx (the oldest soft-deleted project), whatever the planner
      -- expects: an exists () was planned as a sequential scan stopping at the first match.
      more := coalesce((select p.deleted_at from public.projects p
                         where p.deleted_at is not null
                         order by p.deleted_at
                         limit 1) < cutoff, false);
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
    -- Per doomed project, its history by workspace_history_project_id_user_id_id_idx: with
    -- `project_id = any (doomed) limit n` and thousands of doomed projects the planner read the
    -- table sequentially until it had n rows.
    delete from public.workspace_history h
     where h.id = any (array(
       select h2.id from unnest(doomed) as d(id)
        cross join lateral (select h3.id from public.workspace_history h3
                             where h3.project_id = d.id
                               for update skip locked) h2
        limit rows_per_batch));
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

create or replace function ops.trim_workspace_history(batch_size integer default null, max_batches integer default null)
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
      -- One probe of workspace_history_changed_at_idx (the oldest event), whatever the planner
      -- expects: an exists () was planned as a sequential scan stopping at the first match.
      more := coalesce((select h.changed_at from public.workspace_history h
                         order by h.changed_at
                         limit 1) < cutoff, false);
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

create or replace function ops.prune_webhook_inbox(batch_size integer default null, max_batches integer default null)
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
      -- One probe of clerk_webhook_inbox_received_at_idx (the oldest delivery), whatever the
      -- planner expects (an exists () may be planned as a sequential scan).
      more := coalesce((select i.received_at from private.clerk_webhook_inbox i
                         order by i.received_at
                         limit 1) < cutoff, false);
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
