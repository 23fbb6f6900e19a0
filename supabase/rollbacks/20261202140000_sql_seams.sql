-- Rollback of 20261202140000_sql_seams: the functions get the bodies they had before (copied from
-- their last migrations), and the helpers go. Tables captured with audit.capture() after this
-- migration keep their triggers (they belong to those tables' own migrations).

create or replace function privacy.caller_role()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  case current_setting('role')
    when 'authenticated' then return coalesce(private.current_user_role(), 'user');
    when 'service_role' then return 'service';
    when 'anon' then return 'anon';
    else return 'owner';
  end case;
end;
$$;

create or replace function audit.require_reviewer()
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if current_setting('role') in ('anon', 'authenticated') and not private.is_staff() then
    raise exception 'only staff can read the audit chain' using errcode = 'insufficient_privilege';
  end if;
end;
$$;

create or replace function ops.require_staff()
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

create or replace function privacy.require_admin_or_automation()
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if privacy.caller_role() not in ('admin', 'service', 'owner') then
    raise exception 'only an admin or automation can run erasures' using errcode = 'P0001', hint = 'http:403';
  end if;
end;
$$;

create or replace function audit.append_staff_read(
  action text,
  target_schema text default null,
  target_table text default null,
  target_id text default null,
  details jsonb default '{}'::jsonb
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- The role setting survives security definer (audit.current_actor reads it the same way).
  if current_setting('role') in ('anon', 'authenticated') and not private.is_staff() then
    raise exception 'only staff record staff reads' using errcode = 'insufficient_privilege';
  end if;
  -- The events the functions record from a staff member's transaction; nothing else.
  if append_staff_read.action not in ('audit.searched', 'audit.verified', 'dsar.requests.listed', 'dsar.request.viewed') then
    raise exception 'not a staff read event: %', append_staff_read.action using errcode = 'insufficient_privilege';
  end if;
  return audit.append(append_staff_read.action, append_staff_read.target_schema, append_staff_read.target_table,
                      append_staff_read.target_id, append_staff_read.details);
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

drop function if exists audit.capture(regclass);
drop function if exists ops.run_batches(text, text, text, text, text, integer, integer);
drop function if exists private.require_caller(text[], text, text);
drop function if exists private.caller_capacity();
