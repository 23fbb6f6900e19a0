-- Triggers and publication: updated_at maintenance, workspace_history events written by the
-- project and tab triggers (field names and positions, never titles), the last_active_at bump of
-- a project when its tabs change, cascading deletes, and the Realtime publication.
-- Writes go through the owner's `authenticated` session where the API would make them, so the
-- security definer trigger functions are exercised as they run in production.
begin;
set search_path = public, extensions, tests;

select plan(38);

-- ---------------------------------------------------------------------------------------------
-- Fixtures (as postgres)
-- ---------------------------------------------------------------------------------------------
select tests.create_user('owner') as owner \gset
select tests.create_user('victim') as victim \gset

-- ---------------------------------------------------------------------------------------------
-- updated_at: moves on a real change, stays on a no-op update
-- The rows are first backdated with triggers off (session_replication_role = replica), since
-- the trigger would otherwise overwrite the backdated value with now().
-- ---------------------------------------------------------------------------------------------
insert into projects (user_id, name) values (:'owner', 'Timestamps project')
returning id as ts_project \gset
insert into workspace_tabs (project_id, user_id, position, title, kind)
values (:'ts_project', :'owner', 0, 'Timestamps tab', 'notes')
returning id as ts_tab \gset

set local session_replication_role = replica;
update users set updated_at = '2000-01-01T00:00:00Z' where id = :'owner';
update projects set updated_at = '2000-01-01T00:00:00Z' where id = :'ts_project';
update workspace_tabs set updated_at = '2000-01-01T00:00:00Z' where id = :'ts_tab';
set local session_replication_role = origin;

select tests.authenticate_as(:'owner');

-- no-op updates first (same values): updated_at keeps the backdated value
select results_eq(
  format($$ update users set display_name = display_name, preferences = preferences
             where id = %L returning updated_at $$, :'owner'),
  $$ values ('2000-01-01T00:00:00Z'::timestamptz) $$,
  'users: a no-op update keeps updated_at'
);
select results_eq(
  format($$ update projects set name = name where id = %L returning updated_at $$, :'ts_project'),
  $$ values ('2000-01-01T00:00:00Z'::timestamptz) $$,
  'projects: a no-op update keeps updated_at'
);
select results_eq(
  format($$ update workspace_tabs set title = title where id = %L returning updated_at $$, :'ts_tab'),
  $$ values ('2000-01-01T00:00:00Z'::timestamptz) $$,
  'workspace_tabs: a no-op update keeps updated_at'
);

-- real changes: updated_at becomes the transaction time
select results_eq(
  format($$ update users set display_name = 'New name' where id = %L returning updated_at $$, :'owner'),
  $$ select now() $$,
  'users: a real update sets updated_at to now()'
);
select results_eq(
  format($$ update projects set description = 'New text' where id = %L returning updated_at $$, :'ts_project'),
  $$ select now() $$,
  'projects: a real update sets updated_at to now()'
);
select results_eq(
  format($$ update workspace_tabs set title = 'New title' where id = %L returning updated_at $$, :'ts_tab'),
  $$ select now() $$,
  'workspace_tabs: a real update sets updated_at to now()'
);

select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------
-- workspace_history: project events
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'owner');

insert into projects (name, description) values ('Secret project name', 'Secret description')
returning id as project \gset

select results_eq(
  format($$ select user_id, tab_id, action, diff from workspace_history where project_id = %L $$, :'project'),
  format($$ values (%L, null::uuid, 'project.created', '{"status":"active"}'::jsonb) $$, :'owner'),
  'project insert writes project.created'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update projects set status = 'archived' where id = :'project';
select results_eq(
  format($$ select action, diff from workspace_history where project_id = %L and id > %s order by id $$, :'project', :'mark'),
  $$ values ('project.archived', '{"from":"active","to":"archived"}'::jsonb) $$,
  'status active -> archived writes project.archived'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update projects set status = 'active' where id = :'project';
select results_eq(
  format($$ select action, diff from workspace_history where project_id = %L and id > %s order by id $$, :'project', :'mark'),
  $$ values ('project.unarchived', '{"from":"archived","to":"active"}'::jsonb) $$,
  'status archived -> active writes project.unarchived'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update projects set status = 'deleted', deleted_at = now() where id = :'project';
select results_eq(
  format($$ select action, diff from workspace_history where project_id = %L and id > %s order by id $$, :'project', :'mark'),
  $$ values ('project.deleted', '{"from":"active","to":"deleted"}'::jsonb) $$,
  'status active -> deleted writes project.deleted'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update projects set status = 'active', deleted_at = null where id = :'project';
select results_eq(
  format($$ select action, diff from workspace_history where project_id = %L and id > %s order by id $$, :'project', :'mark'),
  $$ values ('project.restored', '{"from":"deleted","to":"active"}'::jsonb) $$,
  'status deleted -> active writes project.restored'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update projects set name = 'Secret renamed', description = 'Secret new description' where id = :'project';
select results_eq(
  format($$ select action, diff from workspace_history where project_id = %L and id > %s order by id $$, :'project', :'mark'),
  $$ values ('project.updated', '{"fields":["name","description"]}'::jsonb) $$,
  'renaming writes project.updated with the field names only'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update projects set name = name, status = status, tabs_version = tabs_version + 1 where id = :'project';
select is_empty(
  format($$ select action from workspace_history where project_id = %L and id > %s $$, :'project', :'mark'),
  'an update that changes no name, description, metadata or status writes no event'
);

-- ---------------------------------------------------------------------------------------------
-- workspace_history: tab events
-- ---------------------------------------------------------------------------------------------
select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
insert into workspace_tabs (project_id, position, title, kind)
values (:'project', 0, 'Secret tab A', 'brief'), (:'project', 1, 'Secret tab B', 'notes');
select id as tab_a from workspace_tabs where project_id = :'project' and position = 0 \gset
select id as tab_b from workspace_tabs where project_id = :'project' and position = 1 \gset

select results_eq(
  format($$ select user_id, tab_id, action, diff from workspace_history
             where project_id = %L and id > %s order by diff ->> 'position' $$, :'project', :'mark'),
  format($$ values (%L, %L::uuid, 'tab.created', '{"position":0,"kind":"brief"}'::jsonb),
                   (%L, %L::uuid, 'tab.created', '{"position":1,"kind":"notes"}'::jsonb) $$,
         :'owner', :'tab_a', :'owner', :'tab_b'),
  'inserting two tabs writes one tab.created per tab, with position and kind'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update workspace_tabs set title = 'Secret tab A renamed' where id = :'tab_a';
select results_eq(
  format($$ select tab_id, action, diff from workspace_history where project_id = %L and id > %s order by id $$, :'project', :'mark'),
  format($$ values (%L::uuid, 'tab.updated', '{"fields":["title"]}'::jsonb) $$, :'tab_a'),
  'retitling a tab writes tab.updated naming the field, not the title'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update workspace_tabs set kind = 'brief_v2', metadata = '{"activeBriefSectionIds":["goals"]}' where id = :'tab_a';
select results_eq(
  format($$ select tab_id, action, diff from workspace_history where project_id = %L and id > %s order by id $$, :'project', :'mark'),
  format($$ values (%L::uuid, 'tab.updated', '{"fields":["kind","metadata"]}'::jsonb) $$, :'tab_a'),
  'changing kind and metadata writes tab.updated naming both fields'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update workspace_tabs set position = 2 where id = :'tab_a';
select results_eq(
  format($$ select tab_id, action, diff from workspace_history where project_id = %L and id > %s order by id $$, :'project', :'mark'),
  format($$ values (%L::uuid, 'tab.moved', '{"from":0,"to":2}'::jsonb) $$, :'tab_a'),
  'moving a tab writes tab.moved with the from and to positions'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update workspace_tabs set position = 0, title = 'Secret tab A again' where id = :'tab_a';
select results_eq(
  format($$ select tab_id, action, diff from workspace_history where project_id = %L and id > %s order by id $$, :'project', :'mark'),
  format($$ values (%L::uuid, 'tab.updated', '{"fields":["title"],"from":2,"to":0}'::jsonb) $$, :'tab_a'),
  'moving and retitling in one update writes one tab.updated with the field and the positions'
);

-- A reorder in one statement: one event, with each tab's net move (ordered by the new position).
select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update workspace_tabs set position = 1 - position where project_id = :'project';
select results_eq(
  format($$ select tab_id, action, diff from workspace_history
             where project_id = %L and id > %s order by id $$, :'project', :'mark'),
  format($$ values (null::uuid, 'tabs.reordered',
                    jsonb_build_object('count', 2, 'moves', jsonb_build_array(
                      jsonb_build_object('tab_id', %L::text, 'from', 1, 'to', 0),
                      jsonb_build_object('tab_id', %L::text, 'from', 0, 'to', 1)))) $$, :'tab_b', :'tab_a'),
  'swapping two tabs in one statement writes one tabs.reordered naming both moves'
);

-- One statement moving one tab and retitling another: a single move stays tab.moved, a field
-- change stays its own tab.updated.
select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update workspace_tabs
   set position = case when id = :'tab_a' then 2 else position end,
       title = case when id = :'tab_b' then 'Secret tab B renamed' else title end
 where project_id = :'project';
select results_eq(
  format($$ select tab_id, action, diff from workspace_history
             where project_id = %L and id > %s order by action $$, :'project', :'mark'),
  format($$ values (%L::uuid, 'tab.moved', '{"from":1,"to":2}'::jsonb),
                   (%L::uuid, 'tab.updated', '{"fields":["title"]}'::jsonb) $$, :'tab_a', :'tab_b'),
  'one move and one retitle in a statement: tab.moved and tab.updated, no reorder event'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
update workspace_tabs set title = title, position = position where project_id = :'project';
select is_empty(
  format($$ select action from workspace_history where project_id = %L and id > %s $$, :'project', :'mark'),
  'a no-op tab update writes no event'
);

select coalesce(max(id), 0) as mark from workspace_history where project_id = :'project' \gset
delete from workspace_tabs where id = :'tab_b';
select results_eq(
  format($$ select tab_id, action, diff from workspace_history where project_id = %L and id > %s order by id $$, :'project', :'mark'),
  format($$ values (%L::uuid, 'tab.deleted', '{"position":0}'::jsonb) $$, :'tab_b'),
  'deleting a tab writes tab.deleted with its position'
);

select is_empty(
  format($$ select id, diff from workspace_history
             where project_id = %L and (diff::text ilike '%%secret%%' or action ilike '%%secret%%') $$, :'project'),
  'no history event carries a title, name or description text'
);

select is_empty(
  format($$ select id from workspace_history where project_id = %L and user_id <> %L $$, :'project', :'owner'),
  'every event of the project belongs to the project''s owner'
);

select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------
-- A tab change bumps the project's last_active_at (backdated first, as postgres)
-- ---------------------------------------------------------------------------------------------
update projects set last_active_at = '2000-01-01T00:00:00Z' where id = :'project';
select tests.authenticate_as(:'owner');
insert into workspace_tabs (project_id, position, title, kind) values (:'project', 3, 'Secret tab C', 'notes');
select tests.clear_authentication();
select results_eq(
  format($$ select last_active_at from projects where id = %L $$, :'project'),
  $$ select now() $$,
  'inserting a tab bumps the project''s last_active_at'
);

update projects set last_active_at = '2000-01-01T00:00:00Z' where id = :'project';
select tests.authenticate_as(:'owner');
update workspace_tabs set title = 'Secret tab C renamed' where project_id = :'project' and position = 3;
select tests.clear_authentication();
select results_eq(
  format($$ select last_active_at from projects where id = %L $$, :'project'),
  $$ select now() $$,
  'updating a tab bumps the project''s last_active_at'
);

update projects set last_active_at = '2000-01-01T00:00:00Z' where id = :'project';
select tests.authenticate_as(:'owner');
update workspace_tabs set position = 5 where project_id = :'project' and position = 3;
select tests.clear_authentication();
select results_eq(
  format($$ select last_active_at from projects where id = %L $$, :'project'),
  $$ select now() $$,
  'moving a tab bumps the project''s last_active_at'
);

update projects set last_active_at = '2000-01-01T00:00:00Z' where id = :'project';
select tests.authenticate_as(:'owner');
delete from workspace_tabs where project_id = :'project' and position = 5;
select tests.clear_authentication();
select results_eq(
  format($$ select last_active_at from projects where id = %L $$, :'project'),
  $$ select now() $$,
  'deleting a tab bumps the project''s last_active_at'
);

-- A tab write that changes nothing records no event (checked above), so it does not count as
-- activity either.
update projects set last_active_at = '2000-01-01T00:00:00Z' where id = :'project';
select tests.authenticate_as(:'owner');
update workspace_tabs set title = title where project_id = :'project';
select tests.clear_authentication();
select results_eq(
  format($$ select last_active_at from projects where id = %L $$, :'project'),
  $$ values ('2000-01-01T00:00:00Z'::timestamptz) $$,
  'a no-op tab update does not bump the project''s last_active_at'
);

-- ---------------------------------------------------------------------------------------------
-- Deletes cascade: a project purge, then a user erasure (service role, as the automation does)
-- ---------------------------------------------------------------------------------------------
insert into projects (user_id, name) values (:'victim', 'Victim project 1') returning id as victim_p1 \gset
insert into projects (user_id, name) values (:'victim', 'Victim project 2') returning id as victim_p2 \gset
insert into workspace_tabs (project_id, user_id, position, title, kind)
values (:'victim_p1', :'victim', 0, 'V1 tab 0', 'notes'), (:'victim_p1', :'victim', 1, 'V1 tab 1', 'notes'),
       (:'victim_p2', :'victim', 0, 'V2 tab 0', 'brief');
update workspace_tabs set position = 2 where project_id = :'victim_p1' and position = 1;

select tests.authenticate_as_service_role();

select lives_ok(
  format($$ delete from projects where id = %L $$, :'victim_p1'),
  'purging a project with tabs and history succeeds'
);
select is_empty(
  format($$ select 'tab' from workspace_tabs where project_id = %L
            union all
            select 'event' from workspace_history where project_id = %L $$, :'victim_p1', :'victim_p1'),
  'purging a project removes its tabs and its history, and writes no tab.deleted event'
);

select lives_ok(
  format($$ delete from users where id = %L $$, :'victim'),
  'deleting a user with projects, tabs and history succeeds (the cascade does not fail)'
);

select tests.clear_authentication();
select is(
  (select count(*)::int from projects where user_id = :'victim'), 0,
  'deleting a user removes their projects'
);
select is(
  (select count(*)::int from workspace_tabs where user_id = :'victim'), 0,
  'deleting a user removes their tabs'
);
select is(
  (select count(*)::int from workspace_history where user_id = :'victim'), 0,
  'deleting a user removes their history'
);
select is(
  (select count(*)::int from projects where user_id = :'owner'), 2,
  'deleting a user leaves other users'' projects alone'
);

-- ---------------------------------------------------------------------------------------------
-- Realtime publication
-- ---------------------------------------------------------------------------------------------
select ok(
  exists (select 1 from pg_publication_tables
           where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'projects'),
  'publication supabase_realtime contains public.projects'
);
select ok(
  exists (select 1 from pg_publication_tables
           where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'workspace_tabs'),
  'publication supabase_realtime contains public.workspace_tabs'
);

select * from finish();
rollback;
