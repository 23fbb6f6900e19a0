-- Automatic capture: automation writes (service role, database sessions without a user) leave one
-- entry per statement with ids only and the right actor; users' own writes leave none; role
-- changes are recorded whoever makes them; DDL is recorded by the event triggers and recording
-- never breaks a schema change. Entries are found by the test's own random ids, so concurrent
-- activity in the shared database does not disturb the counts.
begin;
set search_path = public, extensions, tests;

select plan(24);

select tests.random_id('user_capsvc') as synced \gset
select tests.create_user('capowner') as owner \gset

-- ---------------------------------------------------------------------------------------------
-- Service role (a webhook sync through withServiceRole('clerk-webhooks'))
-- ---------------------------------------------------------------------------------------------
select set_config('role', 'service_role', true) as r,
       set_config('request.jwt.claims', '{"role": "service_role", "actor": "clerk-webhooks"}', true) as c,
       set_config('request.id', 'req-webhook-320', true) as q \gset
insert into users (id) values (:'synced');
update users set role = 'support' where id = :'synced';
select tests.clear_authentication();

select results_eq(
  format($$ select actor, actor_kind, db_role, target_schema, target_table, target_id, request_id, details
              from audit.log where action = 'data.insert' and target_id = %L $$, :'synced'),
  format($$ values ('clerk-webhooks', 'service', 'service_role', 'public', 'users', %L, 'req-webhook-320',
                    jsonb_build_object('count', 1, 'ids', jsonb_build_array(%L::text))) $$, :'synced', :'synced'),
  'service insert: one data.insert entry, actor from the actor claim, ids only, request id'
);
select results_eq(
  format($$ select actor, actor_kind, details from audit.log
             where action = 'user.role.changed' and target_id = %L $$, :'synced'),
  $$ values ('clerk-webhooks', 'service', '{"from": "user", "to": "support"}'::jsonb) $$,
  'service role change: user.role.changed with from/to and the automation as actor'
);
select is(
  (select count(*)::int from audit.log where action = 'data.update' and target_id = :'synced'),
  1,
  'service update: one data.update entry'
);
select ok(
  (select details::text !~ '@' from audit.log where action = 'data.insert' and target_id = :'synced'),
  'details hold ids and counts only'
);

-- Tabs written by the service role: one entry for the tabs; the history rows the tab trigger
-- writes are implied, not repeated.
insert into projects (user_id, name) values (:'synced', 'Synced project') returning id as synced_project \gset
select set_config('role', 'service_role', true) as r,
       set_config('request.jwt.claims', '{"role": "service_role", "actor": "tab-sync"}', true) as c \gset
insert into workspace_tabs (project_id, user_id, position, title, kind)
select :'synced_project', :'synced', n, 'Tab ' || n, 'notes' from generate_series(0, 2) n;
select tests.clear_authentication();
select results_eq(
  format($$ select target_table, (details ->> 'count')::int, jsonb_array_length(details -> 'ids')
              from audit.log where actor = 'tab-sync' and details -> 'ids' ? (
                select id::text from workspace_tabs where project_id = %L limit 1) $$, :'synced_project'),
  $$ values ('workspace_tabs', 3, 3) $$,
  'service tab insert: one statement entry with the three tab ids'
);
select is(
  (select count(*)::int from audit.log where actor = 'tab-sync' and target_table = 'workspace_history'),
  0,
  'history rows written by the tab trigger are not repeated as entries'
);

-- ---------------------------------------------------------------------------------------------
-- Users' own writes (authenticated, under RLS): not audited
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'owner');
insert into projects (name) values ('Own project') returning id as own_project \gset
insert into workspace_tabs (project_id, position, title, kind) values (:'own_project', 0, 'Mine', 'notes');
update users set display_name = 'Owner' where id = :'owner';
update projects set status = 'archived' where id = :'own_project';
select tests.clear_authentication();
select is(
  (select count(*)::int from audit.log where actor = :'owner'),
  0,
  'a user''s own writes leave no audit entry'
);
select is(
  (select count(*)::int from audit.log where target_id = :'own_project' or details -> 'ids' ? :'own_project'),
  0,
  'nothing was recorded about the user''s own project'
);

-- ---------------------------------------------------------------------------------------------
-- Database sessions without a user (cron jobs, maintenance): audited as kind database
-- ---------------------------------------------------------------------------------------------
set local application_name = 'cleanup-test';
select tests.create_user('capbulk') as bulk_owner \gset
insert into projects (user_id, name) select :'bulk_owner', 'Bulk ' || n from generate_series(1, 150) n;
select results_eq(
  format($$ select actor, actor_kind, db_role, target_id, (details ->> 'count')::int,
                   jsonb_array_length(details -> 'ids'), (details ->> 'ids_truncated')::boolean
              from audit.log l
             where l.action = 'data.insert' and l.target_table = 'projects' and l.details ->> 'count' = '150'
               and exists (select 1 from projects p where p.user_id = %L and l.details -> 'ids' ? p.id::text) $$,
         :'bulk_owner'),
  $$ values ('cleanup-test', 'database', 'postgres', null::text, 150, 100, true) $$,
  'database insert of 150 rows: one entry, count 150, the first 100 ids, marked truncated, no single target'
);

-- A cleanup that deletes a user's project: one entry per statement, the cascade included.
select id::text as synced_tab from workspace_tabs where project_id = :'synced_project' order by position limit 1 \gset
delete from projects where id = :'synced_project';
select results_eq(
  format($$ select action collate "default", target_table, target_id, actor, actor_kind from audit.log
             where action = 'data.delete' and target_id = %L $$, :'synced_project'),
  format($$ values ('data.delete', 'projects', %L, 'cleanup-test', 'database') $$, :'synced_project'),
  'database delete: data.delete with the project id and the session as actor'
);
select results_eq(
  format($$ select (details ->> 'count')::int, actor from audit.log
             where action = 'data.delete' and target_table = 'workspace_tabs' and details -> 'ids' ? %L $$, :'synced_tab'),
  $$ values (3, 'cleanup-test') $$,
  'the cascaded deletion of the project''s three tabs is recorded with their ids'
);

-- A statement that touches nothing is not an action on a record.
delete from projects where id = gen_random_uuid();
select is(
  (select count(*)::int from audit.log where action = 'data.delete' and details ->> 'count' = '0'),
  0,
  'statements that change no row leave no entry'
);

-- A database session acting for a signed-in user is not automation.
select set_config('request.jwt.claims', format('{"sub": "%s", "role": "authenticated"}', :'owner'), true) as c \gset
update projects set name = 'Renamed as owner' where id = :'own_project';
select set_config('request.jwt.claims', '', true) as c \gset
select is(
  (select count(*)::int from audit.log where action = 'data.update' and target_id = :'own_project'),
  0,
  'a superuser session carrying a user''s claims is not recorded as automation'
);

-- Replica mode does not silence capture (ALWAYS).
set local session_replication_role = replica;
update projects set name = 'Renamed in replica mode' where id = :'own_project';
set local session_replication_role = origin;
select is(
  (select count(*)::int from audit.log where action = 'data.update' and target_id = :'own_project'),
  1,
  'session_replication_role = replica: the automation write is still recorded'
);

-- A pg_cron run is named after its job: pg_cron connects with application_name 'pg_cron' and
-- records the run's backend pid in cron.job_run_details (simulated here for this session).
set local application_name = 'pg_cron';
insert into cron.job_run_details (jobid, runid, job_pid, database, username, command, status, start_time)
select j.jobid, tests.cron_runid(), pg_backend_pid(), 'postgres', 'postgres', j.command, 'running', now()
  from cron.job j where j.jobname = 'audit-seal';
select audit.append('test.cron_actor') as cron_entry \gset
select results_eq(
  format('select actor, actor_kind from audit.log where id = %s', :cron_entry),
  $$ values ('cron:audit-seal', 'database') $$,
  'a pg_cron job session is recorded as cron:<job name>'
);
set local application_name = 'cleanup-test';

-- ---------------------------------------------------------------------------------------------
-- Role changes, whoever makes them
-- ---------------------------------------------------------------------------------------------
select tests.create_user('capadmin', 'admin') as new_admin \gset
select results_eq(
  format($$ select actor, details from audit.log where action = 'user.role.changed' and target_id = %L $$, :'new_admin'),
  $$ values ('cleanup-test', '{"from": null, "to": "admin"}'::jsonb) $$,
  'a user created with a staff role is recorded as a role change from null'
);
update users set role = 'user' where id = :'new_admin';
select is(
  (select details from audit.log where action = 'user.role.changed' and target_id = :'new_admin' order by id desc limit 1),
  '{"from": "admin", "to": "user"}'::jsonb,
  'a role revocation is recorded with from/to'
);
update users set role = 'user', display_name = 'Still a user' where id = :'new_admin';
select is(
  (select count(*)::int from audit.log where action = 'user.role.changed' and target_id = :'new_admin'),
  2,
  'an update that keeps the role records no role change'
);

-- ---------------------------------------------------------------------------------------------
-- DDL (event triggers)
-- ---------------------------------------------------------------------------------------------
set local application_name = 'migration-test';
create schema audit_ddl_test;
create table audit_ddl_test.widgets (id bigint generated always as identity primary key, label text);
alter table audit_ddl_test.widgets add column size integer;
create temporary table audit_ddl_scratch (a int);
drop table audit_ddl_test.widgets;

select results_eq(
  $$ select details ->> 'command_tag', details ->> 'object_type', target_schema, target_id, actor, db_role
       from audit.log
      where action = 'schema.ddl' and target_id in ('audit_ddl_test', 'audit_ddl_test.widgets')
      order by id $$,
  $$ values ('CREATE SCHEMA', 'schema', null, 'audit_ddl_test', 'migration-test', 'postgres'),
            ('CREATE TABLE', 'table', 'audit_ddl_test', 'audit_ddl_test.widgets', 'migration-test', 'postgres'),
            ('ALTER TABLE', 'table', 'audit_ddl_test', 'audit_ddl_test.widgets', 'migration-test', 'postgres'),
            ('DROP TABLE', 'table', 'audit_ddl_test', 'audit_ddl_test.widgets', 'migration-test', 'postgres') $$,
  'create, alter and drop are recorded with command tag, object identity, actor and role'
);
select ok(
  (select count(distinct target_id) = 2 from audit.log
    where action = 'schema.ddl' and target_id in ('audit_ddl_test.widgets_id_seq', 'audit_ddl_test.widgets_pkey')),
  'objects created along (identity sequence, primary key index) are recorded too'
);
select is(
  (select count(*)::int from audit.log where action = 'schema.ddl' and target_id like '%audit_ddl_scratch%'),
  0,
  'temporary objects are not recorded'
);

-- A recorder failure never blocks DDL: with unreadable claims audit.append cannot run.
select set_config('request.jwt.claims', 'not json', true) as c \gset
set local client_min_messages = error;  -- the expected WARNING 'audit: CREATE TABLE not recorded'
select lives_ok(
  $$ create table audit_ddl_test.survivor (id int) $$,
  'DDL succeeds even when the audit entry cannot be written (warning only)'
);
select set_config('request.jwt.claims', '', true) as c \gset
set local client_min_messages = notice;
select has_table('audit_ddl_test', 'survivor', 'the table was created');
select is(
  (select count(*)::int from audit.log where target_id = 'audit_ddl_test.survivor'),
  0,
  'and the failed recording left no partial entry'
);

select * from finish();
rollback;
