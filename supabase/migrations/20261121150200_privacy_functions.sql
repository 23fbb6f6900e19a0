-- Purpose: the behaviour of data-subject requests, decided in the database. Every write goes
-- through a security definer function of the privacy schema that checks who is calling (the
-- subject, support, admin, automation) and raises P0001 with hint http:<status> when it refuses;
-- a request the caller cannot see answers 404, like a request that does not exist.
--   create_request     export or erasure; for another person only by staff, with a reason; an
--                      erasure requested by support waits for an admin's approval; staff may
--                      shorten the grace period with a reason; an export is built at once
--   cancel_request     subject or staff, until the erasure starts
--   approve_request    an admin who is not the requester
--   export_download    the stored document (subject or staff), until it expires
--   take_rate_limit    fixed-window counter per actor and action (limits in ops.settings)
--   build_export       one JSON document with every mapped row of the subject, in ONE query
--                      generated from privacy.data_map
--   execute_erasure    in one transaction: exclusive lock on the Clerk id, anonymize / delete per
--                      the data map, the user through private.apply_clerk_user_deleted (tombstone,
--                      cascades), counts, then verification that no mapped table that is not
--                      retained still holds the subject's rows, stored as proof. Idempotent.
--   run_erasure        execute_erasure in a subtransaction: a failure rolls back that erasure only
--                      and marks the request failed with an error code (no personal data)
--   erase_deleted_clerk_user  the Clerk user.deleted path: an erasure with no grace period,
--                      executed at once (the account is already gone at Clerk)
--   pending_clerk_deletions / record_clerk_deletion  the Clerk Backend API step of the privacy
--                      function (admins and automation)
-- Every action is audited (audit.append, ids and counts only): dsar.<kind>.<verb>.
-- Objects: functions in schema privacy (see the list above, plus caller_role, audit_request,
-- find_visible_request, export_statement, subject_counts, compose_export, execute_export).
-- Destructive: the erasure functions delete and anonymize a person's data when called.

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------

-- The caller's capacity: user | support | admin (a signed-in Clerk user, per public.users.role),
-- service (service_role automation), anon, or owner (cron, migrations, psql).
create function privacy.caller_role()
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
comment on function privacy.caller_role() is
  'Capacity of the caller: user | support | admin (signed-in, per public.users.role), service (service_role), anon, owner (cron, psql).';

create function privacy.audit_request(action text, request_id uuid, details jsonb)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  perform audit.append(action, 'privacy', 'requests', request_id::text, details);
end;
$$;
comment on function privacy.audit_request(text, uuid, jsonb) is
  'Appends a DSAR audit entry (target privacy.requests <id>; details: ids and counts only).';

-- The request, locked, if the caller may see it (subject, staff, automation); 404 otherwise.
create function privacy.find_visible_request(request_id uuid)
returns privacy.requests
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  found_request privacy.requests;
  role text := privacy.caller_role();
begin
  if role = 'anon' then
    raise exception 'a signed-in caller is required' using errcode = 'P0001', hint = 'http:401';
  end if;
  select * into found_request from privacy.requests r where r.id = find_visible_request.request_id for update;
  if found_request.id is null
     or (role = 'user' and found_request.subject_user_id is distinct from ((select auth.jwt()) ->> 'sub')) then
    raise exception 'request not found' using errcode = 'P0001', hint = 'http:404';
  end if;
  return found_request;
end;
$$;
comment on function privacy.find_visible_request(uuid) is
  'The request with this id, locked FOR UPDATE, when the caller is its subject, staff or automation; P0001 http:404 otherwise.';

-- ---------------------------------------------------------------------------------------------
-- Export
-- ---------------------------------------------------------------------------------------------

-- One statement (parameter $1 = the subject) that returns, in one row, every exported table's rows
-- of the subject as json (`tables`) and their counts (`counts`): one index lookup per mapped
-- table, aggregated as json (text) rather than jsonb, which costs a third less for a heavy subject.
create function privacy.export_statement()
returns text
language sql
stable
security definer
set search_path = ''
as $$
  with exported as (
    select m.table_schema || '.' || m.table_name as name, m.table_schema, m.table_name, m.subject_column,
           row_number() over (order by m.table_schema, m.table_name) as n
      from privacy.data_map m
     where m.export
  )
  select case when count(*) = 0 then 'select ''{}''::json as tables, ''{}''::jsonb as counts' else
    'select json_build_object(' || string_agg(format('%L, t%s.rows', e.name, e.n), ', ' order by e.n) || ') as tables, '
    || 'jsonb_build_object(' || string_agg(format('%L, t%s.n', e.name, e.n), ', ' order by e.n) || ') as counts from '
    || string_agg(format('(select coalesce(json_agg(t), ''[]''::json) as rows, count(*) as n from %I.%I t where t.%I = $1) t%s',
                         e.table_schema, e.table_name, e.subject_column, e.n), ' cross join ' order by e.n)
  end
    from exported e
$$;
comment on function privacy.export_statement() is
  'The one SQL statement (parameter $1 = subject id) that returns tables (json: "schema.table" -> rows) and counts (jsonb) of the subject for every table with export = true in privacy.data_map. At most 50 tables (json_build_object takes 100 arguments; privacy.data_map_problems() checks).';

-- Per mapped table, the number of the subject's rows, in one statement.
create function privacy.subject_counts(subject_user_id text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  statement text;
  counts jsonb;
begin
  select 'select ' || string_agg(
           format('jsonb_build_object(%L, (select count(*) from %I.%I t where t.%I = $1))',
                  m.table_schema || '.' || m.table_name, m.table_schema, m.table_name, m.subject_column),
           ' || ' order by m.table_schema, m.table_name)
    into statement
    from privacy.data_map m;
  execute statement into counts using subject_user_id;
  return coalesce(counts, '{}'::jsonb);
end;
$$;
comment on function privacy.subject_counts(text) is
  'Rows of the subject in every mapped table ({"schema.table": n}), one statement.';

-- The export document and its per-table counts.
create function privacy.compose_export(subject_user_id text, request_id uuid, out document json, out counts jsonb)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  tables json;
  map jsonb;
begin
  if subject_user_id is null or subject_user_id !~ '^user_[A-Za-z0-9]{1,64}$' then
    raise exception 'an export needs a Clerk user id' using errcode = '22023';
  end if;
  execute privacy.export_statement() into tables, counts using subject_user_id;
  -- What each table and column is (GDPR art. 15(1)(b): the categories of data concerned).
  select jsonb_object_agg(m.table_schema || '.' || m.table_name, jsonb_build_object(
           'description', m.description,
           'erasure', m.erasure,
           'legal_basis', m.legal_basis,
           'columns', (select jsonb_object_agg(c.column_name,
                                jsonb_build_object('classification', c.classification, 'personal', c.personal))
                         from privacy.data_map_columns c
                        where c.table_schema = m.table_schema and c.table_name = m.table_name)))
    into map
    from privacy.data_map m
   where m.export;
  document := json_build_object(
    'format', 'dsar-export/1',
    'request_id', request_id,
    'subject_user_id', subject_user_id,
    'generated_at', now(),
    'counts', counts,
    'data_map', coalesce(map, '{}'::jsonb),
    'tables', tables);
end;
$$;
comment on function privacy.compose_export(text, uuid) is
  'The export document of a subject (format, request id, generated_at, counts, data map, tables) and its counts; one query for all the rows.';

create function privacy.build_export(subject_user_id text)
returns json
language sql
stable
security definer
set search_path = ''
as $$
  select (privacy.compose_export(subject_user_id, null)).document
$$;
comment on function privacy.build_export(text) is
  'The export document of a subject: every row of every table with export = true in privacy.data_map (one query), counts per table and the classification of every column.';

-- Builds and stores the export of an export request (in_progress -> completed). Idempotent.
create function privacy.execute_export(request_id uuid)
returns privacy.requests
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  req privacy.requests;
  composed record;
  document_text text;
begin
  select * into req from privacy.requests r where r.id = execute_export.request_id for update;
  if req.id is null then
    raise exception 'request not found' using errcode = 'P0001', hint = 'http:404';
  end if;
  if req.kind <> 'export' then
    raise exception 'not an export request' using errcode = 'P0001', hint = 'http:409';
  end if;
  if req.status = 'completed' then
    return req;
  end if;

  update privacy.requests r set status = 'in_progress', started_at = now(), attempts = r.attempts + 1, error = null
   where r.id = req.id;
  composed := privacy.compose_export(req.subject_user_id, req.id);
  document_text := composed.document::text;

  insert into privacy.exports as e (request_id, subject_user_id, document, bytes, sha256, expires_at)
  values (req.id, req.subject_user_id, composed.document, octet_length(document_text),
          encode(sha256(convert_to(document_text, 'UTF8')), 'hex'),
          now() + ops.setting_interval('dsar_export_retention'))
  on conflict on constraint exports_pkey do update
    set document = excluded.document, bytes = excluded.bytes, sha256 = excluded.sha256,
        created_at = excluded.created_at, expires_at = excluded.expires_at;

  update privacy.requests r
     set status = 'completed', completed_at = now(), row_counts = composed.counts
   where r.id = req.id
  returning * into req;

  perform privacy.audit_request('dsar.export.completed', req.id, jsonb_build_object(
    'subject_user_id', req.subject_user_id, 'counts', req.row_counts, 'bytes', octet_length(document_text)));
  return req;
end;
$$;
comment on function privacy.execute_export(uuid) is
  'Builds the export document of an export request, stores it until now() + dsar_export_retention, completes the request with per-table counts. A completed request is returned unchanged.';

-- ---------------------------------------------------------------------------------------------
-- Erasure
-- ---------------------------------------------------------------------------------------------
create function privacy.execute_erasure(request_id uuid, deleted_at timestamptz default null)
returns privacy.requests
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  req privacy.requests;
  subject text;
  found_counts jsonb;
  remaining_counts jsonb;
  entry record;
  assignments text;
  affected bigint;
  applied jsonb := '{}'::jsonb;
  erasure_proof jsonb;
  not_erased text;
begin
  select * into req from privacy.requests r where r.id = execute_erasure.request_id for update;
  if req.id is null then
    raise exception 'request not found' using errcode = 'P0001', hint = 'http:404';
  end if;
  if req.kind <> 'erasure' then
    raise exception 'not an erasure request' using errcode = 'P0001', hint = 'http:409';
  end if;
  -- Re-running a completed erasure is harmless: nothing to do, the proof stands.
  if req.status = 'completed' then
    return req;
  end if;
  if req.status not in ('scheduled', 'failed') then
    raise exception 'the erasure is %', req.status using errcode = 'P0001', hint = 'http:409';
  end if;
  subject := req.subject_user_id;

  -- Webhook upserts and just-in-time inserts of this Clerk id take the shared lock: one arriving
  -- now waits for this transaction and then finds the tombstone.
  perform private.lock_clerk_user(subject, true);

  update privacy.requests r
     set status = 'in_progress', started_at = now(), attempts = r.attempts + 1, error = null
   where r.id = req.id;

  found_counts := privacy.subject_counts(subject);

  -- Anonymize and delete per the data map (children first), one statement per table.
  for entry in
    select m.table_schema, m.table_name, m.subject_column, m.erasure
      from privacy.data_map m
     where m.erasure in ('delete', 'anonymize')
       and (m.table_schema, m.table_name) <> ('public', 'users')
     order by m.erasure_order, m.table_schema, m.table_name
  loop
    if entry.erasure = 'delete' then
      execute format('delete from %I.%I t where t.%I = $1', entry.table_schema, entry.table_name, entry.subject_column)
        using subject;
    else
      select string_agg(format('%I = null', c.column_name), ', ' order by c.column_name) into assignments
        from privacy.data_map_columns c
       where c.table_schema = entry.table_schema and c.table_name = entry.table_name and c.anonymize;
      execute format('update %I.%I t set %s where t.%I = $1', entry.table_schema, entry.table_name, assignments,
                     entry.subject_column)
        using subject;
    end if;
    get diagnostics affected = row_count;
    applied := applied || jsonb_build_object(entry.table_schema || '.' || entry.table_name, affected);
  end loop;

  -- The one deletion path: tombstone first, then the user row; projects and tabs cascade.
  perform private.apply_clerk_user_deleted(subject, coalesce(execute_erasure.deleted_at, now()));

  -- Proof: nothing of the subject remains in any table that is not retained.
  remaining_counts := privacy.subject_counts(subject);
  select string_agg(m.table_schema || '.' || m.table_name, ', ') into not_erased
    from privacy.data_map m
   where m.erasure <> 'retain'
     and coalesce((remaining_counts ->> (m.table_schema || '.' || m.table_name))::bigint, -1) <> 0;
  if not_erased is not null then
    raise exception 'erasure verification failed' using errcode = 'P0001', table = not_erased,
      hint = 'rows of the subject remain after the erasure';
  end if;
  if not exists (select 1 from private.clerk_user_tombstones t where t.user_id = subject) then
    raise exception 'erasure verification failed: no tombstone' using errcode = 'P0001',
      table = 'private.clerk_user_tombstones';
  end if;

  select jsonb_build_object(
           'verified_at', clock_timestamp(),
           'remaining', coalesce(jsonb_object_agg(m.table_schema || '.' || m.table_name,
                                   (remaining_counts ->> (m.table_schema || '.' || m.table_name))::bigint)
                                   filter (where m.erasure <> 'retain'), '{}'::jsonb),
           'retained', coalesce(jsonb_object_agg(m.table_schema || '.' || m.table_name, jsonb_build_object(
                                   'rows', (remaining_counts ->> (m.table_schema || '.' || m.table_name))::bigint,
                                   'legal_basis', m.legal_basis))
                                   filter (where m.erasure = 'retain'), '{}'::jsonb),
           'tombstone', true)
    into erasure_proof
    from privacy.data_map m;
  erasure_proof := erasure_proof || jsonb_build_object('sha256', encode(sha256(convert_to(erasure_proof::text, 'UTF8')), 'hex'));

  update privacy.requests r
     set status = 'completed',
         completed_at = now(),
         row_counts = (
           select jsonb_object_agg(m.table_schema || '.' || m.table_name, jsonb_build_object(
                    'action', m.erasure,
                    'rows', coalesce((applied ->> (m.table_schema || '.' || m.table_name))::bigint,
                                     (found_counts ->> (m.table_schema || '.' || m.table_name))::bigint)))
             from privacy.data_map m),
         proof = erasure_proof,
         clerk_delete_required = r.clerk_delete_required and r.requested_as <> 'clerk'
   where r.id = req.id
  returning * into req;

  perform privacy.audit_request('dsar.erasure.completed', req.id, jsonb_build_object(
    'subject_user_id', subject,
    'rows', (select jsonb_object_agg(e.key, e.value -> 'rows') from jsonb_each(req.row_counts) e),
    'proof_sha256', erasure_proof ->> 'sha256'));
  return req;
end;
$$;
comment on function privacy.execute_erasure(uuid, timestamptz) is
  'Executes a scheduled (or failed) erasure in the caller''s transaction: exclusive lock on the Clerk id, anonymize/delete per privacy.data_map, private.apply_clerk_user_deleted (tombstone at deleted_at, default now()), per-table counts, verification that no table that is not retained holds the subject''s rows (else raises), proof, completed. A completed request is returned unchanged.';

-- execute_erasure in a subtransaction: on any error, that erasure alone is rolled back and the
-- request is marked failed with an error code (SQLSTATE, table, constraint; no message text,
-- which could carry personal data). Returns the request's status afterwards.
create function privacy.run_erasure(request_id uuid, deleted_at timestamptz default null)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  req privacy.requests;
  failed_state text;
  failed_schema text;
  failed_table text;
  failed_constraint text;
  error_code text;
begin
  select * into req from privacy.requests r where r.id = run_erasure.request_id for update;
  if req.id is null or req.kind <> 'erasure' or req.status not in ('scheduled', 'failed') then
    return req.status;
  end if;
  begin
    req := privacy.execute_erasure(req.id, run_erasure.deleted_at);
    return req.status;
  exception when others then
    get stacked diagnostics failed_state = returned_sqlstate, failed_schema = schema_name,
                            failed_table = table_name, failed_constraint = constraint_name;
    error_code := left(concat_ws(' ', 'sqlstate=' || failed_state,
                                 'table=' || nullif(concat_ws('.', nullif(failed_schema, ''), nullif(failed_table, '')), ''),
                                 'constraint=' || nullif(failed_constraint, '')), 500);
    update privacy.requests r
       set status = 'failed', attempts = r.attempts + 1, error = error_code
     where r.id = req.id
    returning * into req;
    perform privacy.audit_request('dsar.erasure.failed', req.id, jsonb_build_object(
      'subject_user_id', req.subject_user_id, 'sqlstate', failed_state, 'attempts', req.attempts));
    return req.status;
  end;
end;
$$;
comment on function privacy.run_erasure(uuid, timestamptz) is
  'Runs privacy.execute_erasure in a subtransaction: on failure that erasure is rolled back entirely and the request marked failed (error = SQLSTATE/table/constraint, attempts + 1, audited). Returns the status.';

-- Clerk reported the user deleted (webhook user.deleted): erase now. An open erasure of the
-- subject is executed at once; otherwise a new one (requested_as clerk, no grace) is created and
-- executed. If the erasure fails, the tombstone is written anyway (nothing can resurrect the
-- user) and run-due-erasures retries. Returns false when the subject was already erased.
create function privacy.erase_deleted_clerk_user(user_id text, deleted_at timestamptz)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  req privacy.requests;
  outcome text;
begin
  if user_id is null or deleted_at is null then
    raise exception 'erase_deleted_clerk_user needs a user id and a deletion time' using errcode = '22023';
  end if;
  -- Locks in the order execute_erasure takes them (request row, then the Clerk id), so this never
  -- deadlocks with a job running the same erasure: it waits for it and then finds it completed.
  select * into req
    from privacy.requests r
   where r.subject_user_id = erase_deleted_clerk_user.user_id and r.kind = 'erasure'
     and r.status in ('received', 'scheduled', 'failed')
   for update;

  if req.id is not null then
    -- The account is gone at Clerk: no grace, no approval to wait for, no Clerk call to make.
    update privacy.requests r
       set status = 'scheduled', scheduled_for = now(), clerk_delete_required = false
     where r.id = req.id;
    perform privacy.audit_request('dsar.erasure.rescheduled', req.id, jsonb_build_object(
      'subject_user_id', req.subject_user_id, 'trigger', 'clerk.user.deleted'));
  else
    -- No request row to lock: serialise on the Clerk id, so that of two deliveries of the deletion
    -- (different svix ids) the second waits and finds the subject erased.
    perform private.lock_clerk_user(erase_deleted_clerk_user.user_id, true);
    if exists (select 1 from private.clerk_user_tombstones t where t.user_id = erase_deleted_clerk_user.user_id)
       and not exists (select 1 from public.users u where u.id = erase_deleted_clerk_user.user_id) then
      return false;
    end if;
    insert into privacy.requests (kind, subject_user_id, requested_as, requester_user_id, reason, status,
                                  grace_period, scheduled_for, clerk_delete_required)
    values ('erasure', erase_deleted_clerk_user.user_id, 'clerk', null, 'clerk:user.deleted', 'scheduled',
            interval '0', now(), false)
    returning * into req;
    perform privacy.audit_request('dsar.erasure.requested', req.id, jsonb_build_object(
      'subject_user_id', req.subject_user_id, 'requested_as', 'clerk', 'grace_seconds', 0));
  end if;

  outcome := privacy.run_erasure(req.id, erase_deleted_clerk_user.deleted_at);
  if outcome <> 'completed' then
    perform private.lock_clerk_user(erase_deleted_clerk_user.user_id, true);
    insert into private.clerk_user_tombstones as t (user_id, deleted_at)
    values (erase_deleted_clerk_user.user_id, erase_deleted_clerk_user.deleted_at)
    on conflict on constraint clerk_user_tombstones_pkey do nothing;
  end if;
  return true;
end;
$$;
comment on function privacy.erase_deleted_clerk_user(text, timestamptz) is
  'Clerk user.deleted: executes the subject''s open erasure, or a new one (requested_as clerk, grace 0), at once; the tombstone is written even if the erasure fails (run-due-erasures retries). False when already erased.';

-- ---------------------------------------------------------------------------------------------
-- The API: create, cancel, approve, download, rate limit
-- ---------------------------------------------------------------------------------------------
create function privacy.create_request(
  kind text,
  subject_user_id text default null,
  reason text default null,
  grace_period interval default null,
  grace_reason text default null
)
returns privacy.requests
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  caller text := (select auth.jwt()) ->> 'sub';
  role text := privacy.caller_role();
  subject text;
  capacity text;
  clean_reason text := nullif(btrim(create_request.reason), '');
  clean_grace_reason text := nullif(btrim(create_request.grace_reason), '');
  default_grace interval;
  grace interval;
  req privacy.requests;
begin
  if role not in ('user', 'support', 'admin') or caller is null then
    raise exception 'a signed-in caller is required' using errcode = 'P0001', hint = 'http:401';
  end if;
  if kind is null or kind not in ('export', 'erasure') then
    raise exception 'kind must be export or erasure' using errcode = 'P0001', hint = 'http:422';
  end if;
  subject := coalesce(create_request.subject_user_id, caller);
  if subject !~ '^user_[A-Za-z0-9]{1,64}$' then
    raise exception 'subject_user_id is not a Clerk user id' using errcode = 'P0001', hint = 'http:422';
  end if;

  if subject = caller then
    capacity := 'subject';
  elsif role in ('support', 'admin') then
    capacity := role;
  else
    raise exception 'only staff can make a request for another person' using errcode = 'P0001', hint = 'http:403';
  end if;
  if capacity <> 'subject' and clean_reason is null then
    raise exception 'staff must give a reason or ticket reference' using errcode = 'P0001', hint = 'http:422';
  end if;

  -- The subject must be known (staff) and not erased already (everyone).
  if exists (select 1 from private.clerk_user_tombstones t where t.user_id = subject) then
    raise exception 'this user has been deleted' using errcode = 'P0001', hint = 'http:410';
  end if;
  if capacity <> 'subject' and not exists (select 1 from public.users u where u.id = subject) then
    raise exception 'user not found' using errcode = 'P0001', hint = 'http:404';
  end if;

  if kind = 'export' then
    if create_request.grace_period is not null or clean_grace_reason is not null then
      raise exception 'an export has no grace period' using errcode = 'P0001', hint = 'http:422';
    end if;
  else
    default_grace := ops.setting_interval('dsar_erasure_grace');
    if create_request.grace_period is not null then
      if role not in ('support', 'admin') then
        raise exception 'only staff can shorten the grace period' using errcode = 'P0001', hint = 'http:403';
      end if;
      if create_request.grace_period < interval '0' or create_request.grace_period > default_grace then
        raise exception 'the grace period must be between 0 and %', default_grace using errcode = 'P0001', hint = 'http:422';
      end if;
      if create_request.grace_period < default_grace and clean_grace_reason is null then
        raise exception 'a reason is required to shorten the grace period' using errcode = 'P0001', hint = 'http:422';
      end if;
    elsif clean_grace_reason is not null then
      raise exception 'grace_reason needs a grace_period' using errcode = 'P0001', hint = 'http:422';
    end if;
    grace := coalesce(create_request.grace_period, default_grace);
    if exists (select 1 from privacy.requests r
                where r.subject_user_id = subject and r.kind = 'erasure'
                  and r.status in ('received', 'scheduled', 'in_progress', 'failed')) then
      raise exception 'an erasure of this person is already open' using errcode = 'P0001', hint = 'http:409';
    end if;
  end if;

  insert into privacy.requests (kind, subject_user_id, requested_as, requester_user_id, reason, status,
                                approval_required, grace_period, grace_reason, scheduled_for, clerk_delete_required)
  values (
    kind, subject, capacity, caller, clean_reason,
    case when kind = 'erasure' and capacity <> 'support' then 'scheduled' else 'received' end,
    kind = 'erasure' and capacity = 'support',
    grace,
    case when grace < default_grace then clean_grace_reason end,
    case when kind = 'erasure' and capacity <> 'support' then now() + grace end,
    kind = 'erasure')
  returning * into req;

  perform privacy.audit_request('dsar.' || kind || '.requested', req.id, jsonb_strip_nulls(jsonb_build_object(
    'subject_user_id', subject, 'requested_as', capacity, 'approval_required', req.approval_required,
    'grace_seconds', extract(epoch from grace)::bigint, 'grace_shortened', grace < default_grace)));

  if kind = 'export' then
    -- Built at once (one query); a failure marks the request failed instead of losing it.
    begin
      req := privacy.execute_export(req.id);
    exception when others then
      update privacy.requests r
         set status = 'failed', attempts = r.attempts + 1, error = left('sqlstate=' || sqlstate, 500)
       where r.id = req.id
      returning * into req;
      perform privacy.audit_request('dsar.export.failed', req.id, jsonb_build_object(
        'subject_user_id', subject, 'sqlstate', sqlstate));
    end;
  end if;
  return req;
end;
$$;
comment on function privacy.create_request(text, text, text, interval, text) is
  'Creates an export or erasure request for the caller (subject) or, for staff, another person (reason required). Erasure: scheduled after dsar_erasure_grace (staff may shorten it, with grace_reason); by support it waits for an admin''s approval. Export: built at once. Audited.';

create function privacy.cancel_request(request_id uuid)
returns privacy.requests
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  req privacy.requests := privacy.find_visible_request(request_id);
begin
  if req.status not in ('received', 'scheduled', 'failed') then
    raise exception 'the request is % and can no longer be cancelled', req.status
      using errcode = 'P0001', hint = 'http:409';
  end if;
  update privacy.requests r
     set status = 'cancelled', cancelled_at = now(), cancelled_by = (select auth.jwt()) ->> 'sub'
   where r.id = req.id
  returning * into req;
  perform privacy.audit_request('dsar.' || req.kind || '.cancelled', req.id, jsonb_build_object(
    'subject_user_id', req.subject_user_id));
  return req;
end;
$$;
comment on function privacy.cancel_request(uuid) is
  'Cancels a request that has not started (received, scheduled, or failed): its subject or staff. 404 for others, 409 once started or finished. Audited.';

create function privacy.approve_request(request_id uuid)
returns privacy.requests
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  req privacy.requests := privacy.find_visible_request(request_id);
  caller text := (select auth.jwt()) ->> 'sub';
begin
  if privacy.caller_role() <> 'admin' then
    raise exception 'only an admin can approve an erasure' using errcode = 'P0001', hint = 'http:403';
  end if;
  if req.requester_user_id = caller then
    raise exception 'the requester cannot approve their own request' using errcode = 'P0001', hint = 'http:403';
  end if;
  if not req.approval_required then
    raise exception 'this request needs no approval' using errcode = 'P0001', hint = 'http:409';
  end if;
  if req.approved_at is not null or req.status <> 'received' then
    raise exception 'the request is % and cannot be approved', req.status using errcode = 'P0001', hint = 'http:409';
  end if;
  update privacy.requests r
     set status = 'scheduled', approved_by = caller, approved_at = now(),
         scheduled_for = greatest(r.received_at + r.grace_period, now())
   where r.id = req.id
  returning * into req;
  perform privacy.audit_request('dsar.erasure.approved', req.id, jsonb_build_object(
    'subject_user_id', req.subject_user_id, 'requester_user_id', req.requester_user_id));
  return req;
end;
$$;
comment on function privacy.approve_request(uuid) is
  'Approves an erasure requested by support: admins only, never the requester. Schedules it for received_at + grace_period (not before now). Audited.';

create function privacy.export_download(request_id uuid)
returns table (id uuid, document text, bytes bigint, sha256 text, expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  req privacy.requests := privacy.find_visible_request(request_id);
  stored privacy.exports;
begin
  if req.kind <> 'export' then
    raise exception 'not an export request' using errcode = 'P0001', hint = 'http:409';
  end if;
  if req.status <> 'completed' then
    raise exception 'the export is %', req.status using errcode = 'P0001', hint = 'http:409';
  end if;
  update privacy.exports e
     set downloads = e.downloads + 1, last_downloaded_at = now()
   where e.request_id = req.id and e.expires_at > now()
  returning * into stored;
  if stored.request_id is null then
    raise exception 'the export has expired' using errcode = 'P0001', hint = 'http:410';
  end if;
  perform privacy.audit_request('dsar.export.downloaded', req.id, jsonb_build_object(
    'subject_user_id', req.subject_user_id, 'bytes', stored.bytes, 'downloads', stored.downloads));
  return query select req.id, stored.document::text, stored.bytes, stored.sha256, stored.expires_at;
end;
$$;
comment on function privacy.export_download(uuid) is
  'The stored export document (as JSON text, the bytes its sha256 covers) for its subject or staff; 409 when not a completed export, 410 once expired. Audited.';

create function privacy.take_rate_limit(action text)
returns table (allowed boolean, hits integer, max_hits integer, retry_after_seconds integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  caller_id text := (select auth.jwt()) ->> 'sub';
  window_length interval;
  window_begins timestamptz;
  counted integer;
  max_allowed integer;
begin
  if caller_id is null then
    raise exception 'a signed-in caller is required' using errcode = 'P0001', hint = 'http:401';
  end if;
  if action is null or action not in ('create', 'change', 'read', 'download') then
    raise exception 'unknown rate limit action' using errcode = '22023';
  end if;
  window_length := ops.setting_interval('dsar_rate_window');
  max_allowed := ops.setting_int('dsar_rate_' || action);
  window_begins := date_bin(window_length, now(), timestamptz '2000-01-01 00:00:00+00');

  insert into privacy.rate_limits as l (actor, action, window_start, hits)
  values (caller_id, take_rate_limit.action, window_begins, 1)
  on conflict on constraint rate_limits_pkey do update set hits = l.hits + 1
  returning l.hits into counted;

  return query select counted <= max_allowed, counted, max_allowed,
    greatest(1, ceil(extract(epoch from window_begins + window_length - now())))::integer;
end;
$$;
comment on function privacy.take_rate_limit(text) is
  'Counts one call of the caller (JWT sub) for action create | change | read | download in the current fixed window (dsar_rate_window) and says whether it is within dsar_rate_<action>, and the seconds until the window ends.';

-- ---------------------------------------------------------------------------------------------
-- Clerk Backend API step (run by the privacy function after erasures)
-- ---------------------------------------------------------------------------------------------
create function privacy.require_admin_or_automation()
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
comment on function privacy.require_admin_or_automation() is
  'Raises P0001 http:403 unless the caller is an admin, the service role or the owner.';

create function privacy.pending_clerk_deletions(max_requests integer default 50)
returns table (request_id uuid, subject_user_id text)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform privacy.require_admin_or_automation();
  return query
    select r.id, r.subject_user_id
      from privacy.requests r
     where r.clerk_delete_required and r.clerk_deleted_at is null and r.status = 'completed'
     order by r.clerk_error is not null, r.completed_at
     limit greatest(1, least(coalesce(max_requests, 50), 500));
end;
$$;
comment on function privacy.pending_clerk_deletions(integer) is
  'Completed erasures whose Clerk user still has to be deleted through Clerk''s Backend API: never tried first, then oldest first. Admins and automation.';

create function privacy.record_clerk_deletion(request_id uuid, deleted boolean, http_status integer)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  req privacy.requests;
begin
  perform privacy.require_admin_or_automation();
  update privacy.requests r
     set clerk_deleted_at = case when deleted then now() end,
         clerk_error = case when deleted then null else left('http ' || coalesce(http_status::text, 'error'), 200) end
   where r.id = record_clerk_deletion.request_id and r.clerk_delete_required and r.clerk_deleted_at is null
  returning * into req;
  if req.id is null then
    return;
  end if;
  perform privacy.audit_request(
    case when deleted then 'dsar.erasure.clerk_deleted' else 'dsar.erasure.clerk_delete_failed' end,
    req.id, jsonb_build_object('subject_user_id', req.subject_user_id, 'http_status', http_status));
end;
$$;
comment on function privacy.record_clerk_deletion(uuid, boolean, integer) is
  'Records the outcome of DELETE /v1/users/{id} at Clerk for a completed erasure (deleted: 200 or 404). Admins and automation. Audited.';

-- ---------------------------------------------------------------------------------------------
-- Grants: API roles reach only the checked entry points.
-- ---------------------------------------------------------------------------------------------
revoke all on function privacy.caller_role(), privacy.audit_request(text, uuid, jsonb),
  privacy.find_visible_request(uuid), privacy.export_statement(), privacy.subject_counts(text),
  privacy.compose_export(text, uuid), privacy.build_export(text), privacy.execute_export(uuid), privacy.execute_erasure(uuid, timestamptz),
  privacy.run_erasure(uuid, timestamptz), privacy.erase_deleted_clerk_user(text, timestamptz),
  privacy.create_request(text, text, text, interval, text), privacy.cancel_request(uuid),
  privacy.approve_request(uuid), privacy.export_download(uuid), privacy.take_rate_limit(text),
  privacy.require_admin_or_automation(), privacy.pending_clerk_deletions(integer),
  privacy.record_clerk_deletion(uuid, boolean, integer)
  from public, anon, authenticated, service_role;

grant execute on function privacy.create_request(text, text, text, interval, text), privacy.cancel_request(uuid),
  privacy.approve_request(uuid), privacy.export_download(uuid), privacy.take_rate_limit(text),
  privacy.pending_clerk_deletions(integer), privacy.record_clerk_deletion(uuid, boolean, integer)
  to authenticated;
grant execute on function privacy.pending_clerk_deletions(integer), privacy.record_clerk_deletion(uuid, boolean, integer),
  privacy.erase_deleted_clerk_user(text, timestamptz)
  to service_role;
