-- Purpose: storage of the tamper-evident audit log. Schema `audit` (not exposed by the Data API:
-- config.toml [api] schemas lists only public) with the append-only entry table, the hash-chain
-- table the sealer fills, the archive anchors and the sealer's state; the one function that adds
-- entries (audit.append); append-only protection: no UPDATE/DELETE/TRUNCATE privilege for any API
-- role, and row + statement triggers enabled ALWAYS (session_replication_role = replica cannot
-- silence them) that refuse UPDATE, DELETE and TRUNCATE for every role, the owner included.
-- The only deletion ever accepted is audit.archive() removing a verified, exported chain prefix
-- (migration 20261121130100). Design: docs/AUDIT.md.
-- Objects: schema audit; tables audit.log, audit.chain, audit.anchor, audit.seal_state (+ indexes,
-- RLS, grants); functions audit.append(), audit.current_actor(), audit.refuse_change(),
-- audit.guard_insert(); their triggers.
-- Destructive: nothing.

create schema audit;
comment on schema audit is
  'Tamper-evident audit log (append-only entries + hash chain). Not exposed by the Data API; reached through audit.append() and the admin function.';

revoke all on schema audit from public;
grant usage on schema audit to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Entries
-- ---------------------------------------------------------------------------------------------
create table audit.log (
  -- Plain identity, cache 1: appends never wait on each other (no chain-head lock); the sealer
  -- (audit.seal) relies on cache 1 to know which ids have been handed out.
  id bigint generated always as identity (cache 1) primary key,
  occurred_at timestamptz not null,
  actor text not null constraint log_actor_length check (char_length(actor) between 1 and 200),
  actor_kind text not null constraint log_actor_kind_known check (actor_kind in ('user', 'staff', 'service', 'database')),
  db_role text not null constraint log_db_role_length check (char_length(db_role) between 1 and 63),
  -- C collation: exact and prefix filters (action like 'dsar.%') use the btree index.
  action text collate "C" not null
    constraint log_action_shape check (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' and char_length(action) <= 100),
  target_schema text constraint log_target_schema_length check (char_length(target_schema) <= 63),
  target_table text constraint log_target_table_length check (char_length(target_table) <= 63),
  target_id text constraint log_target_id_length check (char_length(target_id) <= 500),
  request_id text constraint log_request_id_length check (char_length(request_id) <= 128),
  details jsonb not null default '{}'::jsonb
    constraint log_details_object check (jsonb_typeof(details) = 'object' and pg_column_size(details) <= 16384)
);

comment on table audit.log is
  'Append-only audit entries: who did what, when, to which record. Added only by audit.append(); never updated or deleted (triggers enabled ALWAYS) except by audit.archive() removing an exported, anchored chain prefix.';
comment on column audit.log.id is 'Entry id; the hash chain links entries in id order (audit.chain).';
comment on column audit.log.occurred_at is 'Transaction time of the action (now()), the same instant as updated_at of the rows it changed.';
comment on column audit.log.actor is 'Who: the Clerk user id (sub) for user and staff actions, the automation name for service and database actions (e.g. clerk-webhooks, cron:audit-seal).';
comment on column audit.log.actor_kind is 'user | staff (a Clerk user, staff per public.users.role at the time) | service (service_role automation) | database (cron, migrations, maintenance sessions).';
comment on column audit.log.db_role is 'The database role the statement ran as (the SET ROLE of the request, else the session user).';
comment on column audit.log.action is 'domain.verb, e.g. user.role.changed, data.insert, schema.ddl, dsar.erasure.approved.';
comment on column audit.log.target_schema is 'Schema of the record acted on, when there is one.';
comment on column audit.log.target_table is 'Table of the record acted on, when there is one.';
comment on column audit.log.target_id is 'Id of the record acted on (a single record; statement-level entries list ids in details.ids).';
comment on column audit.log.request_id is 'The x-request-id of the HTTP request that caused the action (setting request.id), when known.';
comment on column audit.log.details is 'Non-personal context: ids, counts, roles, command tags. Never emails, names or free text.';

-- Admin filters, all ordered like the listing (occurred_at desc, id desc) for keyset pagination.
create index log_occurred_at_id_idx on audit.log (occurred_at desc, id desc);
create index log_actor_occurred_at_idx on audit.log (actor, occurred_at desc, id desc);
create index log_action_occurred_at_idx on audit.log (action, occurred_at desc, id desc);
create index log_target_occurred_at_idx on audit.log (target_table, target_id, occurred_at desc, id desc);
-- Statement-level entries name their rows in details.ids (strings): "which entries touched id X".
create index log_details_ids_idx on audit.log using gin ((details -> 'ids')) where details ? 'ids';

-- ---------------------------------------------------------------------------------------------
-- Hash chain, anchors, sealer state
-- ---------------------------------------------------------------------------------------------
create table audit.chain (
  id bigint primary key,
  hash bytea not null constraint chain_hash_sha256 check (octet_length(hash) = 32),
  sealed_at timestamptz not null default now()
);
comment on table audit.chain is
  'Hash chain over audit.log, written only by audit.seal(): hash = sha256(previous hash || canonical entry), in entry id order. Append-only like audit.log.';
comment on column audit.chain.id is 'The audit.log id this hash seals (no foreign key: a deleted entry must leave its hash behind as evidence).';
comment on column audit.chain.hash is 'sha256(hash of the previous sealed entry, or of the anchor/genesis || audit.canonical(entry)).';

create table audit.anchor (
  id bigint generated always as identity primary key,
  through_id bigint not null constraint anchor_through_id_key unique,
  hash bytea not null constraint anchor_hash_sha256 check (octet_length(hash) = 32),
  entries bigint not null constraint anchor_entries_nonnegative check (entries >= 0),
  archived_at timestamptz not null default now(),
  archived_by text not null
);
comment on table audit.anchor is
  'Archive anchors: entries with id <= through_id were exported and removed by audit.archive(); verification of what remains starts from hash. Append-only.';
comment on column audit.anchor.hash is 'Chain hash of entry through_id: the previous hash of the first remaining entry, and the last hash of the export.';

create table audit.seal_state (
  singleton boolean primary key default true constraint seal_state_singleton check (singleton),
  sealed_through bigint not null default 0,
  last_id bigint not null default 0,
  last_hash bytea not null default '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
  pending_hi bigint,
  pending_xmax xid8,
  sealed_at timestamptz
);
comment on table audit.seal_state is
  'State of audit.seal(): every id <= sealed_through is sealed or was never committed; last_id/last_hash is the chain head; pending_* is the next horizon, final once every transaction older than pending_xmax has ended.';
comment on column audit.seal_state.pending_hi is 'Last identity value handed out when the horizon was taken.';
comment on column audit.seal_state.pending_xmax is 'First unassigned transaction id when the horizon was taken (appenders take their xid before their id).';
insert into audit.seal_state default values;

-- ---------------------------------------------------------------------------------------------
-- The one way in
-- ---------------------------------------------------------------------------------------------

-- Who is acting, derived from the session, never from arguments: the role the statement runs as
-- (the `role` setting survives SECURITY DEFINER, which changes only current_user) and the claims
-- set by our functions (request.jwt.claims, the PostgREST shape).
create function audit.current_actor(out db_role text, out actor text, out actor_kind text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  claims jsonb := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
  cron_job text;
begin
  db_role := current_setting('role');
  if db_role = 'none' then
    db_role := session_user;
  end if;

  if db_role = 'authenticated' then
    actor := claims ->> 'sub';
    actor_kind := case when private.is_staff() then 'staff' else 'user' end;
  elsif db_role = 'service_role' then
    actor := coalesce(nullif(claims ->> 'actor', ''), 'service_role');
    actor_kind := 'service';
  elsif db_role = 'anon' then
    actor := null;
    actor_kind := null;
  else
    -- Cron jobs, migrations, maintenance: name the automation. A pg_cron run is found by its
    -- backend pid among the running jobs (a backward scan of the newest runs).
    if current_setting('application_name') = 'pg_cron' and to_regclass('cron.job_run_details') is not null then
      execute $q$
        select j.jobname
          from cron.job_run_details d join cron.job j on j.jobid = d.jobid
         where d.job_pid = pg_backend_pid() and d.status in ('starting', 'running')
         order by d.runid desc limit 1 $q$
      into cron_job;
    end if;
    actor := coalesce(
      nullif(claims ->> 'actor', ''),
      'cron:' || cron_job,
      nullif(current_setting('application_name'), ''),
      db_role
    );
    actor_kind := 'database';
  end if;
end;
$$;
comment on function audit.current_actor() is
  'The acting database role, actor and actor kind of the current statement, derived from the session (role setting, request.jwt.claims, pg_cron job).';

create function audit.append(
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
declare
  who record;
  new_id bigint;
begin
  who := audit.current_actor();
  if who.actor_kind is null or who.actor is null then
    raise exception 'only signed-in users, staff and automation can append to the audit log'
      using errcode = 'insufficient_privilege';
  end if;
  if details is null or jsonb_typeof(details) <> 'object' then
    raise exception 'audit details must be a JSON object' using errcode = 'invalid_parameter_value';
  end if;
  -- Details carry ids and counts only. Names cannot be recognised; email addresses can.
  if (details::text || ' ' || coalesce(target_id, '')) ~* '[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}' then
    raise exception 'audit details must not contain personal data (an email address was found)'
      using errcode = 'invalid_parameter_value';
  end if;

  -- Take the transaction id before the entry id: the sealer's horizon (audit.seal) relies on
  -- every id being handed out to a transaction that already has an xid.
  perform pg_catalog.pg_current_xact_id();
  perform pg_catalog.set_config('audit.appending', 'on', true);
  insert into audit.log (occurred_at, actor, actor_kind, db_role, action, target_schema, target_table,
                         target_id, request_id, details)
  values (now(), left(who.actor, 200), who.actor_kind, left(who.db_role, 63), append.action,
          append.target_schema, append.target_table, append.target_id,
          left(nullif(current_setting('request.id', true), ''), 128), append.details)
  returning id into new_id;
  perform pg_catalog.set_config('audit.appending', 'off', true);
  return new_id;
end;
$$;
comment on function audit.append(text, text, text, text, jsonb) is
  'The only way to add an audit entry. Actor, actor kind, database role, time and request id come from the session, never from arguments. Returns the entry id.';

-- ---------------------------------------------------------------------------------------------
-- Append-only protection (all four tables but seal_state, which is the sealer's working state)
-- ---------------------------------------------------------------------------------------------

-- BEFORE INSERT (statement): inserts only from the function that owns the table
-- (audit.append -> audit.log, audit.seal -> audit.chain, audit.archive -> audit.anchor), which
-- set the transaction-local flag named by the trigger argument around their insert.
create function audit.guard_insert()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if coalesce(current_setting(tg_argv[0], true), '') <> 'on' then
    raise exception 'audit.% accepts inserts only through %', tg_table_name, tg_argv[1]
      using errcode = 'insufficient_privilege';
  end if;
  return null;
end;
$$;
comment on function audit.guard_insert() is
  'BEFORE INSERT statement trigger: refuses inserts that do not come from the table''s own audit function.';

-- BEFORE UPDATE/DELETE (row and statement) and TRUNCATE: refused, whoever asks. The one
-- exception is audit.archive() deleting log and chain rows at or below an anchor it has just
-- recorded: it sets audit.archive_through in the same transaction; the statement-level trigger
-- (which always fires first) accepts the DELETE only when that value is the latest anchor, and the
-- row-level trigger then accepts rows at or below it.
create function audit.refuse_change()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  through bigint;
begin
  if tg_op = 'DELETE' and tg_table_name in ('log', 'chain') then
    through := nullif(current_setting('audit.archive_through', true), '')::bigint;
    if through is not null then
      if tg_level = 'ROW' then
        if old.id <= through then
          return old;
        end if;
      elsif through = (select max(a.through_id) from audit.anchor a) then
        return null;
      end if;
    end if;
  end if;
  raise exception 'audit.% is append-only: % is refused', tg_table_name, tg_op
    using errcode = 'insufficient_privilege',
          hint = 'Audit entries are never changed or removed; old entries leave only through audit.archive().';
end;
$$;
comment on function audit.refuse_change() is
  'BEFORE UPDATE/DELETE/TRUNCATE trigger: the audit tables are append-only for every role (only audit.archive() removes an anchored prefix).';

create trigger log_guard_insert before insert on audit.log
  for each statement execute function audit.guard_insert('audit.appending', 'audit.append()');
create trigger log_refuse_change_row before update or delete on audit.log
  for each row execute function audit.refuse_change();
create trigger log_refuse_change_statement before update or delete on audit.log
  for each statement execute function audit.refuse_change();
create trigger log_refuse_truncate before truncate on audit.log
  for each statement execute function audit.refuse_change();

create trigger chain_guard_insert before insert on audit.chain
  for each statement execute function audit.guard_insert('audit.sealing', 'audit.seal()');
create trigger chain_refuse_change_row before update or delete on audit.chain
  for each row execute function audit.refuse_change();
create trigger chain_refuse_change_statement before update or delete on audit.chain
  for each statement execute function audit.refuse_change();
create trigger chain_refuse_truncate before truncate on audit.chain
  for each statement execute function audit.refuse_change();

create trigger anchor_guard_insert before insert on audit.anchor
  for each statement execute function audit.guard_insert('audit.anchoring', 'audit.archive()');
create trigger anchor_refuse_change_row before update or delete on audit.anchor
  for each row execute function audit.refuse_change();
create trigger anchor_refuse_change_statement before update or delete on audit.anchor
  for each statement execute function audit.refuse_change();
create trigger anchor_refuse_truncate before truncate on audit.anchor
  for each statement execute function audit.refuse_change();

-- ALWAYS: fire under session_replication_role = replica too (which silences ordinary triggers).
alter table audit.log enable always trigger log_guard_insert;
alter table audit.log enable always trigger log_refuse_change_row;
alter table audit.log enable always trigger log_refuse_change_statement;
alter table audit.log enable always trigger log_refuse_truncate;
alter table audit.chain enable always trigger chain_guard_insert;
alter table audit.chain enable always trigger chain_refuse_change_row;
alter table audit.chain enable always trigger chain_refuse_change_statement;
alter table audit.chain enable always trigger chain_refuse_truncate;
alter table audit.anchor enable always trigger anchor_guard_insert;
alter table audit.anchor enable always trigger anchor_refuse_change_row;
alter table audit.anchor enable always trigger anchor_refuse_change_statement;
alter table audit.anchor enable always trigger anchor_refuse_truncate;

-- ---------------------------------------------------------------------------------------------
-- Row-level security and grants: staff read entries and hashes; nobody writes directly.
-- ---------------------------------------------------------------------------------------------
alter table audit.log enable row level security;
alter table audit.chain enable row level security;
alter table audit.anchor enable row level security;
alter table audit.seal_state enable row level security;

create policy log_select_authenticated on audit.log
  for select to authenticated
  using ((select private.is_staff()));
create policy chain_select_authenticated on audit.chain
  for select to authenticated
  using ((select private.is_staff()));
create policy anchor_select_authenticated on audit.anchor
  for select to authenticated
  using ((select private.is_staff()));

revoke all on table audit.log, audit.chain, audit.anchor, audit.seal_state from public, anon, authenticated, service_role;
revoke all on sequence audit.log_id_seq, audit.anchor_id_seq from public, anon, authenticated, service_role;
grant select on table audit.log, audit.chain, audit.anchor to authenticated;

revoke all on function audit.current_actor(), audit.append(text, text, text, text, jsonb),
  audit.guard_insert(), audit.refuse_change() from public, anon, authenticated, service_role;
grant execute on function audit.append(text, text, text, text, jsonb) to authenticated, service_role;
