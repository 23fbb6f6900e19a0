-- Audit log structure: schema audit is private to the database (no anon usage, nothing but
-- select for staff), the append-only triggers are enabled ALWAYS, the identity hands out ids one
-- at a time (the sealer relies on cache 1), the capture triggers and DDL event triggers are in
-- place and ALWAYS, every function pins its search_path, the API roles can call exactly
-- append/verify/head, the admin filters have their indexes, and the cron jobs are scheduled.
begin;
set search_path = public, extensions, tests;

select plan(36);

-- ---------------------------------------------------------------------------------------------
-- Schema and tables
-- ---------------------------------------------------------------------------------------------
select has_schema('audit', 'schema audit exists');
select ok(not has_schema_privilege('anon', 'audit', 'usage'), 'anon has no usage on schema audit');
select tables_are('audit', array['log', 'chain', 'anchor', 'seal_state'], 'audit holds exactly the four tables');
select columns_are('audit', 'log',
  array['id', 'occurred_at', 'actor', 'actor_kind', 'db_role', 'action', 'target_schema', 'target_table',
        'target_id', 'request_id', 'details'],
  'audit.log columns: time, actor, kind, role, action, target, request id, details');

select ok(
  (select bool_and(c.relrowsecurity) from pg_class c
    where c.relnamespace = 'audit'::regnamespace and c.relkind in ('r', 'p')),
  'row level security is enabled on every audit table'
);
select policies_are('audit', 'log', array['log_select_authenticated'], 'audit.log: one select policy (staff)');
select policies_are('audit', 'chain', array['chain_select_authenticated'], 'audit.chain: one select policy (staff)');
select policies_are('audit', 'anchor', array['anchor_select_authenticated'], 'audit.anchor: one select policy (staff)');
select policies_are('audit', 'seal_state', array[]::name[], 'audit.seal_state: no policy at all');

-- ---------------------------------------------------------------------------------------------
-- Privileges: nobody but the owner writes; staff read through RLS
-- ---------------------------------------------------------------------------------------------
select is_empty(
  $$ select c.relname, r.rolname, p.priv
       from pg_class c
      cross join (values ('anon'), ('authenticated'), ('service_role')) as r(rolname)
      cross join (values ('insert'), ('update'), ('delete'), ('truncate'), ('references'), ('trigger')) as p(priv)
      where c.relnamespace = 'audit'::regnamespace and c.relkind in ('r', 'p', 'v')
        and has_table_privilege(r.rolname, c.oid, p.priv) $$,
  'no API role may insert, update, delete or truncate any audit table'
);
select table_privs_are('audit', 'log', 'authenticated', array['SELECT'], 'authenticated: select only on audit.log (rows by RLS)');
select table_privs_are('audit', 'log', 'service_role', array[]::text[], 'service_role: no privilege on audit.log');
select table_privs_are('audit', 'log', 'anon', array[]::text[], 'anon: no privilege on audit.log');
select table_privs_are('audit', 'seal_state', 'authenticated', array[]::text[], 'authenticated: nothing on the sealer state');
select ok(
  not has_sequence_privilege('service_role', 'audit.log_id_seq', 'usage, update'),
  'service_role cannot draw or set audit ids'
);
select is(
  (select s.seqcache from pg_sequence s where s.seqrelid = 'audit.log_id_seq'::regclass),
  1::bigint,
  'the audit id identity hands out ids one at a time (cache 1: the sealer reads its last value)'
);

-- ---------------------------------------------------------------------------------------------
-- Append-only triggers: row + statement, enabled ALWAYS
-- ---------------------------------------------------------------------------------------------
select triggers_are('audit', 'log',
  array['log_guard_insert', 'log_refuse_change_row', 'log_refuse_change_statement', 'log_refuse_truncate'],
  'audit.log: insert guard, row and statement refusal, truncate refusal');
select triggers_are('audit', 'chain',
  array['chain_guard_insert', 'chain_refuse_change_row', 'chain_refuse_change_statement', 'chain_refuse_truncate'],
  'audit.chain: insert guard, row and statement refusal, truncate refusal');
select is_empty(
  $$ select t.tgrelid::regclass, t.tgname from pg_trigger t join pg_class c on c.oid = t.tgrelid
      where c.relnamespace = 'audit'::regnamespace and not t.tgisinternal and t.tgenabled <> 'A' $$,
  'every trigger on the audit tables is enabled ALWAYS (replica mode cannot silence it)'
);
select is(
  (select count(*)::int from pg_trigger t
    where t.tgrelid in ('audit.log'::regclass, 'audit.chain'::regclass, 'audit.anchor'::regclass)
      and t.tgfoid = 'audit.refuse_change'::regproc
      and (t.tgtype & 1) = 0  -- statement level
      and (t.tgtype & (8 | 16)) = (8 | 16)),  -- delete and update
  3,
  'each append-only table has a statement-level UPDATE/DELETE refusal besides the row-level one'
);

-- ---------------------------------------------------------------------------------------------
-- Capture triggers and event triggers
-- ---------------------------------------------------------------------------------------------
-- Found generically: a table added tomorrow is covered without editing this test. Every table of
-- public (what clients and automation write) has the four capture triggers (audit.capture());
-- every table of the other application schemas has them too, or is exempted here with a reason.
create temporary view uncaptured as
  select c.oid::regclass::text as table_name, o.op
    from pg_class c
   cross join (values ('insert', 4), ('delete', 8), ('update', 16), ('truncate', 32)) as o(op, bit)
   where c.relnamespace in ('public'::regnamespace, 'private'::regnamespace, 'privacy'::regnamespace,
                            'ops'::regnamespace)
     and c.relkind in ('r', 'p') and not c.relispartition
     and not exists (
       select 1 from pg_trigger t
        where t.tgrelid = c.oid and t.tgfoid = 'audit.capture_automation_write'::regproc
          and t.tgenabled = 'A' and (t.tgtype & 1) = 0 and (t.tgtype & o.bit) <> 0);
create temporary table capture_exempt (table_name text primary key, reason text not null);
insert into capture_exempt values
  ('private.clerk_webhook_inbox', 'the webhook''s own delivery record; its effects on public.users are captured there'),
  ('private.clerk_user_tombstones', 'written with the user.deleted erasure, which the DSAR erasure audits'),
  ('private.tabs_version_bumps', 'transaction-local bookkeeping of the tab list version, no record of anyone'),
  ('privacy.requests', 'changed only by the privacy.* functions, which audit every step (dsar.*)'),
  ('privacy.exports', 'written and read only by the privacy.* functions, which audit them (dsar.export.*)'),
  ('privacy.rate_limits', 'counters of calls, no action on a record'),
  ('privacy.data_map', 'declared by migrations (DDL and migration history record it)'),
  ('privacy.data_map_columns', 'declared by migrations (DDL and migration history record it)'),
  ('ops.jobs', 'declared by migrations (DDL and migration history record it)'),
  ('ops.settings', 'changed by migrations and operators only; no API role may write it'),
  ('ops.alert_rules', 'declared by migrations; no API role may write it (a trigger also checks each query)'),
  ('ops.alerts', 'opened and resolved only by ops.evaluate_alerts(), which audits both (alert.opened/resolved)'),
  ('ops.notification_outbox', 'delivery bookkeeping of the dispatcher; a notification given up is audited'),
  ('ops.audit_chain_status', 'the last result of the verify-audit-chain job, no record of anyone'),
  ('ops.webhook_deliveries', 'counters per minute and outcome (signals), nothing personal, no action on a record'),
  ('ops.http_requests', 'counters per minute, function and status class (signals), no action on a record'),
  ('ops.clerk_sync_warnings', 'counters per hour and warning kind, written with the delivery the inbox records');
select is_empty(
  $$ select table_name, op from uncaptured where table_name like 'public.%' $$,
  'every table of public has the insert/update/delete/truncate capture triggers, enabled ALWAYS'
);
select is_empty(
  $$ select table_name, op from uncaptured
      where table_name not like 'public.%' and table_name not in (select table_name from capture_exempt) $$,
  'every table of private, privacy and ops is captured or exempted with a reason (capture_exempt above)'
);
select is_empty(
  $$ select e.table_name from capture_exempt e where to_regclass(e.table_name) is null $$,
  'every exempted table exists (a stale exemption is removed)'
);

-- audit.capture() attaches the four triggers in one call, and refuses a table it cannot record.
create table public.capture_probe (id bigint primary key);
select audit.capture('public.capture_probe');
select is(
  (select array_agg(t.tgname::text || ':' || t.tgenabled::text order by t.tgname) from pg_trigger t
    where t.tgrelid = 'public.capture_probe'::regclass and t.tgfoid = 'audit.capture_automation_write'::regproc),
  array['capture_probe_audit_delete:A', 'capture_probe_audit_insert:A', 'capture_probe_audit_truncate:A',
        'capture_probe_audit_update:A'],
  'audit.capture() attaches the insert/update/delete/truncate capture triggers, enabled ALWAYS'
);
create table public.capture_probe_keyless (name text);
select throws_ok($$ select audit.capture('public.capture_probe_keyless') $$, '42703', null,
  'audit.capture() refuses a table without an id column');
drop table public.capture_probe, public.capture_probe_keyless;
select is(
  (select array_agg(t.tgname::text order by t.tgname) from pg_trigger t
    where t.tgrelid = 'public.users'::regclass and t.tgfoid = 'audit.capture_role_change'::regproc
      and t.tgenabled = 'A'),
  array['users_audit_role_change', 'users_audit_role_insert'],
  'role changes of public.users are captured (update and staff-role insert), enabled ALWAYS'
);
select is(
  (select array_agg(e.evtevent::text || ':' || e.evtenabled::text order by e.evtevent) from pg_event_trigger e
    where e.evtfoid = 'audit.capture_ddl'::regproc),
  array['ddl_command_end:A', 'sql_drop:A'],
  'DDL is captured by event triggers on ddl_command_end and sql_drop, enabled ALWAYS'
);

-- ---------------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------------
select is_empty(
  $$ select p.oid::regprocedure from pg_proc p
      where p.pronamespace = 'audit'::regnamespace
        and not coalesce(p.proconfig, '{}') && array['search_path=""'] $$,
  'every audit function pins search_path to empty'
);
select is_empty(
  $$ select p.oid::regprocedure from pg_proc p
      where p.pronamespace = 'audit'::regnamespace and has_function_privilege('anon', p.oid, 'execute') $$,
  'anon can execute no audit function'
);
select is(
  (select array_agg(p.proname::text order by p.proname) from pg_proc p
    where p.pronamespace = 'audit'::regnamespace and has_function_privilege('authenticated', p.oid, 'execute')),
  array['append_staff_read', 'entries_about', 'head', 'verify'],
  'authenticated can execute append_staff_read, entries_about, head and verify only (staff checked inside; not append)'
);
select is(
  (select array_agg(p.proname::text order by p.proname) from pg_proc p
    where p.pronamespace = 'audit'::regnamespace and has_function_privilege('service_role', p.oid, 'execute')),
  array['append', 'head', 'verify'],
  'service_role can execute append, head and verify only'
);

-- ---------------------------------------------------------------------------------------------
-- Indexes for the admin filters (plans are in docs/AUDIT.md)
-- ---------------------------------------------------------------------------------------------
select has_index('audit', 'log', 'log_occurred_at_id_idx', array['occurred_at', 'id'], 'time range + keyset order');
select has_index('audit', 'log', 'log_actor_occurred_at_idx', array['actor', 'occurred_at', 'id'], 'actor filter');
select has_index('audit', 'log', 'log_action_occurred_at_idx', array['action', 'occurred_at', 'id'],
  'action filter (exact and prefix)');
select has_index('audit', 'log', 'log_target_occurred_at_idx', array['target_table', 'target_id', 'occurred_at', 'id'],
  'target filter');

-- ---------------------------------------------------------------------------------------------
-- Scheduled jobs
-- ---------------------------------------------------------------------------------------------
select results_eq(
  $$ select j.jobname::text collate "default", j.schedule collate "default", j.command collate "default" from cron.job j
      where j.jobname in ('audit-seal', 'audit-checkpoint') order by j.jobname $$,
  $$ values ('audit-checkpoint', '5 0 * * *', 'select audit.checkpoint()'),
            ('audit-seal', '* * * * *', 'select audit.seal()') $$,
  'pg_cron runs the sealer every minute and the checkpoint daily'
);

select * from finish();
rollback;
