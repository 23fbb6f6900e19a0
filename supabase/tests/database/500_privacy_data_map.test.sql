-- The data map (privacy.data_map, privacy.data_map_columns) against the catalog: complete today
-- (privacy.data_map_problems() is empty), covering the tables the DSAR design names, every subject
-- column indexed; and the check itself: a new table that refers to a user, a new column of a
-- mapped table, a bad anonymization or cascade are reported. Structure and access of the privacy
-- tables: RLS everywhere, one select policy on requests, nothing writable by API roles.
begin;
set search_path = public, extensions, tests;

select plan(31);

-- ---------------------------------------------------------------------------------------------
-- Structure and access
-- ---------------------------------------------------------------------------------------------
select has_schema('privacy');
select tables_are('privacy', array['data_map', 'data_map_columns', 'requests', 'exports', 'rate_limits'],
  'the privacy schema holds exactly the DSAR tables');
select is(
  (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'privacy' and c.relkind = 'r' and not c.relrowsecurity),
  0, 'row-level security is enabled on every privacy table');
select policies_are('privacy', 'requests', array['requests_select_authenticated'],
  'requests: one select policy (subject or staff), no write policy');
select policies_are('privacy', 'exports', array[]::name[], 'exports: no policy (read through privacy.export_download)');
select policies_are('privacy', 'rate_limits', array[]::name[], 'rate_limits: no policy');
select policies_are('privacy', 'data_map', array['data_map_select_authenticated'], 'data_map: staff read');
select ok(
  not has_table_privilege('authenticated', 'privacy.requests', 'insert')
  and not has_table_privilege('authenticated', 'privacy.requests', 'update')
  and not has_table_privilege('authenticated', 'privacy.requests', 'delete')
  and not has_table_privilege('service_role', 'privacy.requests', 'update')
  and not has_table_privilege('authenticated', 'privacy.exports', 'select')
  and not has_table_privilege('authenticated', 'privacy.rate_limits', 'select')
  and not has_table_privilege('authenticated', 'privacy.data_map', 'insert'),
  'API roles write nothing directly and read exports and rate limits only through functions');
select ok(
  not has_schema_privilege('anon', 'privacy', 'usage'),
  'anon cannot even reach the privacy schema');
select ok(
  not has_function_privilege('authenticated', 'privacy.execute_erasure(uuid, timestamptz)', 'execute')
  and not has_function_privilege('service_role', 'privacy.execute_erasure(uuid, timestamptz)', 'execute')
  and not has_function_privilege('authenticated', 'privacy.build_export(text)', 'execute')
  and not has_function_privilege('authenticated', 'privacy.erase_deleted_clerk_user(text, timestamptz)', 'execute')
  and has_function_privilege('authenticated', 'privacy.create_request(text, text, text, interval, text)', 'execute')
  and has_function_privilege('service_role', 'privacy.erase_deleted_clerk_user(text, timestamptz)', 'execute'),
  'internal functions are not callable by API roles; the checked entry points are');
select is(
  (select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'privacy' and (p.proconfig is null or not 'search_path=""' = any (p.proconfig))),
  0, 'every privacy function pins search_path to empty');

-- ---------------------------------------------------------------------------------------------
-- The map is complete and consistent
-- ---------------------------------------------------------------------------------------------
select is_empty($$ select * from privacy.data_map_problems() $$,
  'privacy.data_map_problems(): no table refers to a user without being mapped, every column is classified');
select set_has(
  $$ select table_schema || '.' || table_name from privacy.data_map $$,
  $$ values ('public.users'), ('public.projects'), ('public.workspace_tabs'), ('public.workspace_history'),
            ('private.clerk_webhook_inbox'), ('private.clerk_user_tombstones'), ('audit.log'),
            ('privacy.requests'), ('privacy.exports') $$,
  'the map covers users, projects, tabs, history, the webhook inbox, tombstones, the audit log, requests, exports');
select results_eq(
  $$ select table_schema || '.' || table_name, erasure from privacy.data_map
      where (table_schema, table_name) in (('private', 'clerk_user_tombstones'), ('audit', 'log'),
                                           ('privacy', 'requests'), ('privacy', 'exports'), ('public', 'users'))
      order by (table_schema || '.' || table_name) collate "C" $$,
  $$ values ('audit.log', 'retain'), ('privacy.exports', 'delete'), ('privacy.requests', 'retain'),
            ('private.clerk_user_tombstones', 'retain'), ('public.users', 'delete') $$,
  'retained: tombstones, audit log, requests (each with a legal basis); deleted: exports, users');
select is(
  (select count(*)::int from privacy.data_map where erasure = 'retain' and legal_basis is null), 0,
  'every retained table names its legal basis');
select is_empty(
  $$ select m.table_schema, m.table_name from privacy.data_map m
      where not exists (
        select 1 from pg_index i
          join pg_class c on c.oid = i.indrelid
          join pg_namespace n on n.oid = c.relnamespace
          join pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0]
         where n.nspname = m.table_schema and c.relname = m.table_name and a.attname = m.subject_column) $$,
  'every subject column leads an index (export and erasure never scan a table for a subject)');
select is(
  (select array_agg(table_name || '.' || column_name order by column_name) from privacy.data_map_columns
    where classification = 'contact' and personal), array['users.email', 'users.phone_number'],
  'the contact columns are users.email and users.phone_number');

-- ---------------------------------------------------------------------------------------------
-- The check catches what is missing
-- ---------------------------------------------------------------------------------------------
create table public.dsar_probe_fk (id int primary key, owner text references public.users (id));
select results_eq(
  $$ select table_name, problem from privacy.data_map_problems() where table_name = 'dsar_probe_fk' $$,
  $$ values ('dsar_probe_fk'::text, 'refers to users but is not in privacy.data_map'::text) $$,
  'a new table with a foreign key to users (whatever the column is called) is reported');

create table private.dsar_probe_name (id int primary key, reviewer_user_id text);
select results_eq(
  $$ select table_name, column_name from privacy.data_map_problems() where table_name = 'dsar_probe_name' $$,
  $$ values ('dsar_probe_name'::text, 'reviewer_user_id'::text) $$,
  'a new table with a user-like column name and no foreign key is reported too');

create table privacy.dsar_probe_actor (actor text, note text);
select isnt_empty(
  $$ select 1 from privacy.data_map_problems() where table_name = 'dsar_probe_actor' $$,
  'an actor column counts as referring to a user');

create table public.dsar_probe_clean (id int primary key, label text);
select is_empty(
  $$ select 1 from privacy.data_map_problems() where table_name = 'dsar_probe_clean' $$,
  'a table without any person column is not reported');

-- Mapping the probe makes it pass; a column added later is reported until it is classified.
insert into privacy.data_map (table_schema, table_name, subject_column, erasure, export, description)
values ('public', 'dsar_probe_fk', 'owner', 'delete', true, 'probe');
insert into privacy.data_map_columns (table_schema, table_name, column_name, classification, personal)
values ('public', 'dsar_probe_fk', 'id', 'technical', false), ('public', 'dsar_probe_fk', 'owner', 'identifier', true);
select is_empty(
  $$ select 1 from privacy.data_map_problems() where table_name = 'dsar_probe_fk' $$,
  'once mapped with every column classified, the table passes');
alter table public.dsar_probe_fk add column phone text;
select results_eq(
  $$ select column_name, problem from privacy.data_map_problems() where table_name = 'dsar_probe_fk' $$,
  $$ values ('phone'::text, 'column of a mapped table is not classified in privacy.data_map_columns'::text) $$,
  'a column added to a mapped table is reported until classified');
alter table public.dsar_probe_fk add column approver_user_id text;
insert into privacy.data_map_columns (table_schema, table_name, column_name, classification, personal)
values ('public', 'dsar_probe_fk', 'phone', 'contact', true), ('public', 'dsar_probe_fk', 'approver_user_id', 'technical', false);
select results_eq(
  $$ select column_name, problem from privacy.data_map_problems() where table_name = 'dsar_probe_fk' $$,
  $$ values ('approver_user_id'::text, 'refers to users but is not classified as a personal identifier'::text) $$,
  'a second person column must be classified as a personal identifier');
update privacy.data_map_columns set classification = 'identifier', personal = true
 where table_name = 'dsar_probe_fk' and column_name = 'approver_user_id';

-- Erasure settings must be coherent.
update privacy.data_map set erasure = 'anonymize' where table_name = 'dsar_probe_fk';
select set_has(
  $$ select problem from privacy.data_map_problems() where table_name = 'dsar_probe_fk' $$,
  $$ values ('anonymize must set the subject column to null'),
            ('personal column of an anonymized table is neither anonymized nor technical') $$,
  'anonymize must clear the subject column and every identifying column');
update privacy.data_map set erasure = 'cascade', cascade_from = 'public.nowhere' where table_name = 'dsar_probe_fk';
select results_eq(
  $$ select problem from privacy.data_map_problems() where table_name = 'dsar_probe_fk' $$,
  $$ values ('cascade_from is not a mapped table whose erasure deletes or cascades'::text) $$,
  'a cascade must name a mapped parent that is deleted');
select throws_ok(
  $$ update privacy.data_map set erasure = 'retain', cascade_from = null where table_name = 'dsar_probe_fk' $$,
  '23514', null, 'retain without a legal basis is refused by a constraint');
delete from privacy.data_map where table_name = 'dsar_probe_fk';
select is(
  (select count(*)::int from privacy.data_map_columns where table_name = 'dsar_probe_fk'), 0,
  'columns go with their table');
insert into privacy.data_map (table_schema, table_name, subject_column, erasure, export, description)
values ('public', 'dsar_gone', 'user_id', 'delete', false, 'probe');
select results_eq(
  $$ select problem from privacy.data_map_problems() where table_name = 'dsar_gone' and column_name is null $$,
  $$ values ('mapped but does not exist'::text) $$,
  'a mapped table that does not exist is reported');

-- The export statement is generated from the map and names every exported table.
select is(
  (select count(*)::int from privacy.data_map m
    where m.export and position(format('%I.%I t where t.%I = $1', m.table_schema, m.table_name, m.subject_column)
                                in privacy.export_statement()) = 0),
  0, 'the export statement looks up every exported table by its subject column');
select ok(position('privacy.exports' in privacy.export_statement()) = 0,
  'exports are not nested into exports');

select * from finish();
rollback;
