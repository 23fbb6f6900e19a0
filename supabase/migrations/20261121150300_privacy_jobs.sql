-- Purpose: the DSAR lifecycle jobs, on the ops job framework (overlap guard ops.try_lock_job,
-- result audited by ops.finish_job / ops.skip_job, settings in ops.settings), scheduled with
-- ops.schedule_job (UTC):
--   run-due-erasures     every 5 min  erasures whose scheduled_for has passed (and failed ones
--                                     with attempts left), each in its own subtransaction
--                                     (privacy.run_erasure), at most dsar_erasure_batch_size
--   purge-dsar-exports   hourly       export documents past expires_at (dsar_export_retention),
--                                     in batches; rate-limit windows older than two windows
--   flag-overdue-dsars   hourly       requests past due_at and not completed or cancelled:
--                                     overdue_at set, one dsar.<kind>.overdue audit entry each
-- run-due-erasures also answers POST /privacy/erasures/run (admins, or automation with the runner
-- secret) through privacy.run_due_erasures, after which the function deletes the erased users at
-- Clerk (Backend API).
-- Objects: job bodies ops.run_due_erasures(integer), ops.purge_dsar_exports(integer, integer),
-- ops.flag_overdue_dsars() (in ops like every lifecycle job); privacy.run_due_erasures(integer),
-- the checked entry point of the privacy function; three pg_cron jobs (ops.jobs rows).
-- Destructive: the jobs erase personal data of due erasure requests and delete expired exports.

create function ops.run_due_erasures(max_requests integer default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  job constant text := 'run-due-erasures';
  started timestamptz := clock_timestamp();
  batch integer := coalesce(max_requests, ops.setting_int('dsar_erasure_batch_size'));
  max_attempts integer := ops.setting_int('dsar_erasure_max_attempts');
  due record;
  outcome text;
  completed integer := 0;
  failed integer := 0;
  more boolean;
begin
  if batch < 1 then
    raise exception 'max_requests must be positive' using errcode = '22023';
  end if;
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;

  for due in
    select r.id
      from privacy.requests r
     where r.kind = 'erasure' and r.status in ('scheduled', 'failed')
       and r.scheduled_for <= now() and r.attempts < max_attempts
     order by r.scheduled_for, r.id
     limit batch
       for update skip locked
  loop
    outcome := privacy.run_erasure(due.id);
    if outcome = 'completed' then
      completed := completed + 1;
    elsif outcome = 'failed' then
      failed := failed + 1;
    end if;
  end loop;

  more := exists (
    select 1 from privacy.requests r
     where r.kind = 'erasure' and r.status in ('scheduled', 'failed')
       and r.scheduled_for <= now() and r.attempts < max_attempts);
  return ops.finish_job(job, started, jsonb_build_object('completed', completed, 'failed', failed, 'more', more));
end;
$$;
comment on function ops.run_due_erasures(integer) is
  'Job run-due-erasures: executes erasures due (scheduled_for <= now(); failed ones while attempts < dsar_erasure_max_attempts), each in its own subtransaction (privacy.run_erasure), at most max_requests (default dsar_erasure_batch_size). Returns the audited counts.';

-- The same for POST /privacy/erasures/run: admins (checked here) and automation.
create function privacy.run_due_erasures(max_requests integer default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  perform privacy.require_admin_or_automation();
  return ops.run_due_erasures(max_requests);
end;
$$;
comment on function privacy.run_due_erasures(integer) is
  'ops.run_due_erasures for the privacy function: admins, the service role and the owner only (P0001 http:403 otherwise).';

create function ops.purge_dsar_exports(batch_size integer default null, max_batches integer default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  job constant text := 'purge-dsar-exports';
  started timestamptz := clock_timestamp();
  rows_per_batch integer := coalesce(batch_size, ops.setting_int('cleanup_batch_size'));
  batch_limit integer := coalesce(max_batches, ops.setting_int('cleanup_max_batches'));
  batches integer := 0;
  affected bigint;
  exports_deleted bigint := 0;
  windows_deleted bigint := 0;
  more boolean := false;
begin
  if rows_per_batch < 1 or batch_limit < 1 then
    raise exception 'batch_size and max_batches must be positive' using errcode = '22023';
  end if;
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;

  loop
    if batches >= batch_limit then
      more := exists (select 1 from privacy.exports e where e.expires_at <= now());
      exit;
    end if;
    delete from privacy.exports e
     where e.request_id = any (array(
       select e2.request_id from privacy.exports e2
        where e2.expires_at <= now()
        order by e2.expires_at
        limit rows_per_batch
          for update skip locked));
    get diagnostics affected = row_count;
    exit when affected = 0;
    batches := batches + 1;
    exports_deleted := exports_deleted + affected;
    exit when affected < rows_per_batch;
  end loop;

  delete from privacy.rate_limits l
   where l.window_start < now() - 2 * ops.setting_interval('dsar_rate_window');
  get diagnostics windows_deleted = row_count;

  return ops.finish_job(job, started, jsonb_build_object(
    'exports', exports_deleted, 'rate_limit_windows', windows_deleted, 'batches', batches, 'more', more));
end;
$$;
comment on function ops.purge_dsar_exports(integer, integer) is
  'Job purge-dsar-exports: deletes export documents whose expires_at has passed (in batches) and rate-limit windows older than two dsar_rate_window. Returns the audited counts.';

create function ops.flag_overdue_dsars()
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  job constant text := 'flag-overdue-dsars';
  started timestamptz := clock_timestamp();
  overdue record;
  flagged integer := 0;
begin
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;
  for overdue in
    update privacy.requests r
       set overdue_at = now()
     where r.status not in ('completed', 'cancelled') and r.overdue_at is null and r.due_at < now()
    returning r.id, r.kind, r.subject_user_id, r.status, r.due_at
  loop
    flagged := flagged + 1;
    perform privacy.audit_request('dsar.' || overdue.kind || '.overdue', overdue.id, jsonb_build_object(
      'subject_user_id', overdue.subject_user_id, 'status', overdue.status, 'due_at', overdue.due_at));
  end loop;
  return ops.finish_job(job, started, jsonb_build_object('flagged', flagged));
end;
$$;
comment on function ops.flag_overdue_dsars() is
  'Job flag-overdue-dsars: sets overdue_at on requests past due_at that are neither completed nor cancelled, one audit entry each. Returns the audited counts.';

revoke all on function ops.run_due_erasures(integer), ops.purge_dsar_exports(integer, integer),
  ops.flag_overdue_dsars(), privacy.run_due_erasures(integer)
  from public, anon, authenticated, service_role;
-- POST /privacy/erasures/run: admins (checked inside) and automation.
grant execute on function privacy.run_due_erasures(integer) to authenticated, service_role;

select ops.schedule_job('run-due-erasures', '*/5 * * * *', 'select ops.run_due_erasures()',
  'Executes DSAR erasures whose grace period has passed (and retries failed ones), each in its own subtransaction, with proof of completion.');
select ops.schedule_job('purge-dsar-exports', '12 * * * *', 'select ops.purge_dsar_exports()',
  'Deletes DSAR export documents past their expiry (dsar_export_retention, default 7 days) and old rate-limit windows.');
select ops.schedule_job('flag-overdue-dsars', '22 * * * *', 'select ops.flag_overdue_dsars()',
  'Flags DSARs past their legal deadline (received + one calendar month) that are not completed, with an audit entry each.');
