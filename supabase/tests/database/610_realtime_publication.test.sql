-- Realtime for Clerk users: what the supabase_realtime publication streams and what a subscriber
-- receives. Realtime's Postgres Changes checks an INSERT/UPDATE record against the subscriber's
-- SELECT policies by selecting the row as the subscriber (role + request.jwt.claims from their
-- token), the way the checks below do; DELETE events cannot be checked, so none are published.
begin;
set search_path = public, extensions, tests;

select plan(17);

-- ---------------------------------------------------------------------------------------------
-- The publication: exactly these tables, every column, inserts and updates only
-- ---------------------------------------------------------------------------------------------
select is(
  (select array_agg(schemaname || '.' || tablename order by schemaname, tablename)
     from pg_publication_tables where pubname = 'supabase_realtime'),
  array['public.projects', 'public.workspace_tabs'],
  'supabase_realtime publishes public.projects and public.workspace_tabs, nothing else (no users, no history)'
);
select results_eq(
  $$ select pubinsert, pubupdate, pubdelete, pubtruncate, puballtables from pg_publication where pubname = 'supabase_realtime' $$,
  $$ values (true, true, false, false, false) $$,
  'inserts and updates only: DELETE and TRUNCATE events (which Realtime cannot check against RLS) are not published'
);
select ok(
  (select bool_and(r.prattrs is null) from pg_publication_rel r
     where r.prpubid = (select oid from pg_publication where pubname = 'supabase_realtime')),
  'no column list: every column is streamed (the owner may read all of them; RLS decides the rows)'
);
select is(
  (select attnames from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'projects'),
  (select array_agg(attname order by attnum) from pg_attribute
    where attrelid = 'public.projects'::regclass and attnum > 0 and not attisdropped),
  'projects: the streamed columns are the table''s columns'
);
select results_eq(
  $$ select relname::text collate "default", relreplident::text collate "default" from pg_class
      where oid in ('public.projects'::regclass, 'public.workspace_tabs'::regclass) order by relname $$,
  $$ values ('projects', 'd'), ('workspace_tabs', 'd') $$,
  'replica identity default (primary key): old records carry no row data'
);
select ok(has_table_privilege('authenticated', 'public.projects', 'select')
          and has_table_privilege('authenticated', 'public.workspace_tabs', 'select'),
  'subscribers (authenticated) hold SELECT, which Realtime needs to check each record');
select ok(not has_table_privilege('anon', 'public.projects', 'select')
          and not has_table_privilege('anon', 'public.workspace_tabs', 'select'),
  'anon holds no SELECT: a subscriber without a Clerk token receives nothing');
select ok(
  to_regclass('realtime.messages') is null
  or not exists (select 1 from pg_policies where schemaname = 'realtime' and tablename = 'messages'),
  'no realtime.messages policy: Broadcast and Presence are not used, no private channel can be joined'
);

-- ---------------------------------------------------------------------------------------------
-- What a subscriber's record check sees (Realtime selects the changed row as the subscriber)
-- ---------------------------------------------------------------------------------------------
select tests.create_user('rtowner') as owner \gset
select tests.create_user('rtother') as other \gset
insert into projects (user_id, name) values (:'owner', 'Live') returning id as project \gset
insert into workspace_tabs (project_id, user_id, position, title, kind)
values (:'project', :'owner', 0, 'Live tab', 'notes') returning id as tab \gset

select tests.authenticate_as(:'owner');
select results_eq(format($$ select name from projects where id = %L $$, :'project'), $$ values ('Live') $$,
  'owner: the project record passes their check (they receive it)');
select results_eq(
  format($$ select title from workspace_tabs where project_id = %L and id = %L $$, :'project', :'tab'),
  $$ values ('Live tab') $$, 'owner: the tab record passes their check');
update projects set status = 'deleted' where id = :'project';
select results_eq(format($$ select status from projects where id = %L $$, :'project'), $$ values ('deleted') $$,
  'owner: a soft delete is an UPDATE, so the owner learns of it');
update projects set status = 'active' where id = :'project';

select tests.authenticate_as(:'other');
select is_empty(format($$ select 1 from projects where id = %L $$, :'project'),
  'another user: the project record fails their check (not delivered)');
select is_empty(format($$ select 1 from workspace_tabs where project_id = %L $$, :'project'),
  'another user: the tab record fails their check');

-- A tab removal reaches subscribers as the project's tabs_version UPDATE, checked like any other.
-- (A removal in a later request: this transaction already moved the version with the fixture.)
select tests.clear_authentication();
delete from private.tabs_version_bumps where project_id = :'project';
select tests.authenticate_as(:'owner');
select tabs_version as before from projects where id = :'project' \gset
delete from workspace_tabs where project_id = :'project' and id = :'tab';
select ok((select tabs_version from projects where id = :'project') = :before::bigint + 1,
  'a removed tab shows as a tabs_version UPDATE of the project (no DELETE event needed)');

select tests.authenticate_as_anon();
select throws_ok(format($$ select 1 from projects where id = %L $$, :'project'), '42501', null,
  'anon: the check fails outright');

-- Staff see no one else's projects either (no staff branch in these SELECT policies).
select tests.clear_authentication();
select tests.create_user('rtstaff', 'admin') as staff \gset
select tests.authenticate_as(:'staff');
select is_empty(format($$ select 1 from projects where id = %L $$, :'project'),
  'staff: other people''s project records are not delivered to staff either');
select is_empty(format($$ select 1 from workspace_tabs where project_id = %L $$, :'project'),
  'staff: nor their tabs');

select * from finish();
rollback;
