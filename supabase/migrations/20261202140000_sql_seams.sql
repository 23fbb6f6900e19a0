-- Purpose: seams that make the next database change small (docs/CONTRIBUTING.md).
--   1. One caller-capacity check. private.caller_capacity() names who is calling (user, support,
--      admin, service, anon, owner) and private.require_caller(allowed, message, sqlstate) refuses
--      the others; the four checks that repeated it (audit.require_reviewer, ops.require_staff,
--      privacy.require_admin_or_automation, the staff test of audit.append_staff_read) and
--      privacy.caller_role() now call them. Each keeps its error: P0001 with hint http:403 (mapped
--      to 403 by _shared/errors.ts), or 42501 where the audit functions raised it. The one
--      difference: an anon session carrying a staff member's sub claim (which no signed token can
--      make) is refused like any anon session.
--   2. One batch-job helper. ops.run_batches(job, retention setting, batch statement, more probe,
--      result key, batch_size, max_batches) is the preamble (argument check, overlap guard,
--      cutoff) and the batch loop (at most max_batches batches, `more` from one probe, counts
--      audited by ops.finish_job) the cleanup jobs repeated; trim-workspace-history and
--      prune-webhook-inbox now run through it with their statements unchanged (same results,
--      locking and plans: the statements still read by index, `for update skip locked`).
--   3. audit.capture(regclass): attaches the four automation-write capture triggers
--      (<table>_audit_{insert,update,delete,truncate}, enabled ALWAYS) to a table in one call,
--      instead of 34 lines per table. supabase/tests/database/300_audit_structure.test.sql finds
--      every table generically and fails for a table neither captured nor exempted with a reason.
-- Objects: functions private.caller_capacity(), private.require_caller(text[], text, text),
-- ops.run_batches(text, text, text, text, text, integer, integer), audit.capture(regclass);
-- replaced bodies (same signatures, grants and comments): audit.require_reviewer(),
-- ops.require_staff(), privacy.require_admin_or_automation(), privacy.caller_role(),
-- audit.append_staff_read(text, text, text, text, jsonb), ops.trim_workspace_history(integer,
-- integer), ops.prune_webhook_inbox(integer, integer).
-- Destructive: nothing.

-- ---------------------------------------------------------------------------------------------
-- 1. The caller's capacity, checked in one place
-- ---------------------------------------------------------------------------------------------
create function private.caller_capacity()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  -- The role setting survives security definer: it is the session's API role, if any.
  case current_setting('role')
    when 'authenticated' then return coalesce(private.current_user_role(), 'user');
    when 'service_role' then return 'service';
    when 'anon' then return 'anon';
    else return 'owner';
  end case;
end;
$$;
comment on function private.caller_capacity() is
  'Who is calling: user | support | admin (a signed-in Clerk user, per public.users.role), service (service_role automation), anon, or owner (cron, migrations, psql).';

create function private.require_caller(allowed text[], refusal text, refusal_code text default 'P0001')
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if private.caller_capacity() = any (allowed) then
    return;
  end if;
  if refusal_code = 'P0001' then
    raise exception using message = refusal, errcode = 'P0001', hint = 'http:403';
  end if;
  raise exception using message = refusal, errcode = refusal_code;
end;
$$;
comment on function private.require_caller(text[], text, text) is
  'Raises `refusal` unless private.caller_capacity() is one of `allowed`: P0001 with hint http:403 (an HTTP 403), or the given SQLSTATE.';

revoke all on function private.caller_capacity(), private.require_caller(text[], text, text)
  from public, anon, authenticated, service_role;

create or replace function privacy.caller_role()
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select private.caller_capacity();
$$;

create or replace function audit.require_reviewer()
returns void
language sql
stable
security definer
set search_path = ''
as $$
  select private.require_caller(array['support', 'admin', 'service', 'owner'],
                                'only staff can read the audit chain', '42501');
$$;

create or replace function ops.require_staff()
returns void
language sql
stable
security definer
set search_path = ''
as $$
  select private.require_caller(array['support', 'admin', 'service', 'owner'],
                                'only staff can read operations data');
$$;

create or replace function privacy.require_admin_or_automation()
returns void
language sql
stable
security definer
set search_path = ''
as $$
  select private.require_caller(array['admin', 'service', 'owner'], 'only an admin or automation can run erasures');
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
  perform private.require_caller(array['support', 'admin', 'service', 'owner'],
                                 'only staff record staff reads', '42501');
  -- The events the functions record from a staff member's transaction; nothing else.
  if append_staff_read.action not in ('audit.searched', 'audit.verified', 'dsar.requests.listed', 'dsar.request.viewed') then
    raise exception 'not a staff read event: %', append_staff_read.action using errcode = 'insufficient_privilege';
  end if;
  return audit.append(append_staff_read.action, append_staff_read.target_schema, append_staff_read.target_table,
                      append_staff_read.target_id, append_staff_read.details);
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- 2. The batch-job helper
-- ---------------------------------------------------------------------------------------------
create function ops.run_batches(
  job text,
  retention_setting text,
  batch_statement text,
  more_statement text,
  counted_as text,
  batch_size integer default null,
  max_batches integer default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  started timestamptz := clock_timestamp();
  rows_per_batch integer := coalesce(batch_size, ops.setting_int('cleanup_batch_size'));
  batch_limit integer := coalesce(max_batches, ops.setting_int('cleanup_max_batches'));
  cutoff timestamptz;
  batches integer := 0;
  affected bigint;
  total bigint := 0;
  more boolean := false;
begin
  if rows_per_batch < 1 or batch_limit < 1 then
    raise exception 'batch_size and max_batches must be positive' using errcode = '22023';
  end if;
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;
  cutoff := now() - ops.setting_interval(retention_setting);

  loop
    if batches >= batch_limit then
      execute more_statement into more using cutoff;
      more := coalesce(more, false);
      exit;
    end if;
    execute batch_statement using cutoff, rows_per_batch;
    get diagnostics affected = row_count;
    exit when affected = 0;
    batches := batches + 1;
    total := total + affected;
    exit when affected < rows_per_batch;
  end loop;

  return ops.finish_job(job, started, jsonb_build_object(
    counted_as, total, 'batches', batches, 'more', more, 'cutoff', cutoff));
end;
$$;
comment on function ops.run_batches(text, text, text, text, text, integer, integer) is
  'Body of a cleanup job: checks the batch arguments (default cleanup_batch_size / cleanup_max_batches), takes the job''s overlap guard (skipped run otherwise), sets cutoff = now() - the retention setting, runs batch_statement ($1 cutoff, $2 rows per batch; its row count is the batch''s) until a short or empty batch or max_batches, then more_statement ($1 cutoff; one boolean: work remains), and audits {counted_as: total, batches, more, cutoff} through ops.finish_job.';

revoke all on function ops.run_batches(text, text, text, text, text, integer, integer)
  from public, anon, authenticated, service_role;

create or replace function ops.trim_workspace_history(batch_size integer default null, max_batches integer default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
begin
  return ops.run_batches('trim-workspace-history', 'workspace_history_retention',
    $batch$
      delete from public.workspace_history h
       where h.id = any (array(
         select h2.id from public.workspace_history h2
          where h2.changed_at < $1
          order by h2.changed_at
          limit $2
            for update skip locked))
    $batch$,
    -- One probe of workspace_history_changed_at_idx (the oldest event), whatever the planner
    -- expects: an exists () was planned as a sequential scan stopping at the first match.
    $more$
      select coalesce((select h.changed_at from public.workspace_history h
                        order by h.changed_at
                        limit 1) < $1, false)
    $more$,
    'history', batch_size, max_batches);
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
begin
  -- At least 30 days (the setting's minimum): a delivery Svix retries or an operator replays is
  -- still found in the inbox and not applied twice.
  return ops.run_batches('prune-webhook-inbox', 'webhook_inbox_retention',
    $batch$
      delete from private.clerk_webhook_inbox i
       where i.svix_id = any (array(
         select i2.svix_id from private.clerk_webhook_inbox i2
          where i2.received_at < $1
          order by i2.received_at
          limit $2
            for update skip locked))
    $batch$,
    -- One probe of clerk_webhook_inbox_received_at_idx (the oldest delivery).
    $more$
      select coalesce((select i.received_at from private.clerk_webhook_inbox i
                        order by i.received_at
                        limit 1) < $1, false)
    $more$,
    'deliveries', batch_size, max_batches);
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- 3. Audit capture for a table in one call
-- ---------------------------------------------------------------------------------------------
create function audit.capture(target regclass)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  table_name text;
  operation text;
begin
  select c.relname into table_name from pg_catalog.pg_class c where c.oid = target and c.relkind in ('r', 'p');
  if table_name is null then
    raise exception '% is not a table', target using errcode = '42809';
  end if;
  -- audit.capture_automation_write() records the ids of the rows written (column id).
  if not exists (select 1 from pg_catalog.pg_attribute a
                  where a.attrelid = target and a.attname = 'id' and a.attnum > 0 and not a.attisdropped) then
    raise exception '% has no id column for the capture triggers to record', target using errcode = '42703';
  end if;
  foreach operation in array array['insert', 'update', 'delete', 'truncate'] loop
    execute format('create trigger %I after %s on %s %s for each statement execute function audit.capture_automation_write()',
                   table_name || '_audit_' || operation, operation, target,
                   case operation
                     when 'insert' then 'referencing new table as new_rows'
                     when 'update' then 'referencing old table as old_rows new table as new_rows'
                     when 'delete' then 'referencing old table as old_rows'
                     else ''
                   end);
    -- ALWAYS: session_replication_role = replica does not skip them.
    execute format('alter table %s enable always trigger %I', target, table_name || '_audit_' || operation);
  end loop;
end;
$$;
comment on function audit.capture(regclass) is
  'Attaches the automation-write capture triggers (<table>_audit_{insert,update,delete,truncate}, AFTER statement, transition tables, enabled ALWAYS) to a table with an id column. For migrations: `select audit.capture(''public.things'');`.';

revoke all on function audit.capture(regclass) from public, anon, authenticated, service_role;
