-- No side door through the Data API: the writes supabase-js makes with a Clerk token against
-- PostgREST (role authenticated + request.jwt.claims, one statement per request, no Edge
-- Function in between) are refused or kept consistent by the database, exactly as the functions'
-- own SQL would keep them: deleted_at follows status, the restore window holds, a deleted project
-- is frozen, tabs_version moves once per transaction for every tab change and only by one step,
-- a foreign tab id reveals nothing, and audit.append is not open to API roles.
begin;
set search_path = public, extensions, tests;

select plan(44);

select tests.create_user('sdowner') as owner \gset
select tests.create_user('sdstranger') as stranger \gset
select tests.create_user('sdstaff', 'support') as staff \gset
insert into projects (user_id, name) values (:'owner', 'Side door') returning id as project \gset
insert into projects (user_id, name) values (:'owner', 'Old delete') returning id as old_project \gset
insert into projects (user_id, name) values (:'stranger', 'Stranger''s') returning id as stranger_project \gset
insert into workspace_tabs (project_id, user_id, position, title, kind)
values (:'stranger_project', :'stranger', 0, 'Secret', 'notes') returning id as stranger_tab \gset
-- A project deleted 31 days ago (automation may backdate; clients may not).
update projects set status = 'deleted', deleted_at = now() - interval '31 days' where id = :'old_project';

-- ---------------------------------------------------------------------------------------------
-- status and deleted_at
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'owner');

select results_eq(
  format($$ update projects set status = 'deleted' where id = %L returning status, deleted_at = now() $$, :'project'),
  $$ values ('deleted', true) $$,
  'PATCH status=deleted alone: deleted_at is set to now() by the database'
);
select throws_ok(
  format($$ update projects set deleted_at = now() + interval '10 years' where id = %L $$, :'project'),
  'P0001', 'deleted_at follows status: it is set when the project is deleted and cleared when it is restored',
  'moving deleted_at of a deleted project (to stay restorable forever) is refused'
);
select throws_ok(
  format($$ update projects set deleted_at = now() - interval '40 days' where id = %L $$, :'project'),
  'P0001', null,
  'backdating deleted_at is refused'
);
select throws_ok(
  format($$ update projects set name = 'Edited while deleted' where id = %L $$, :'project'),
  'P0001', 'the project is deleted',
  'a deleted project''s name cannot change'
);
select throws_ok(
  format($$ update projects set metadata = '{"x": 1}' where id = %L $$, :'project'),
  'P0001', 'the project is deleted',
  'a deleted project''s metadata cannot change'
);
select lives_ok(
  format($$ update projects set status = 'deleted' where id = %L $$, :'project'),
  'deleting a deleted project again is harmless'
);
select results_eq(
  format($$ update projects set status = 'active' where id = %L returning status, deleted_at $$, :'project'),
  $$ values ('active', null::timestamptz) $$,
  'restore inside the window: status active, deleted_at cleared by the database'
);
select throws_ok(
  format($$ update projects set status = 'archived', deleted_at = now() where id = %L $$, :'project'),
  'P0001', null,
  'deleted_at on a project that is not deleted is refused'
);
select results_eq(
  format($$ update projects set status = 'deleted', deleted_at = now() where id = %L returning deleted_at = now() $$, :'project'),
  $$ values (true) $$,
  'status deleted with deleted_at = now() (the consistent value) is accepted'
);
update projects set status = 'active' where id = :'project';

-- ---------------------------------------------------------------------------------------------
-- the restore window
-- ---------------------------------------------------------------------------------------------
select throws_ok(
  format($$ update projects set status = 'active', deleted_at = null where id = %L $$, :'old_project'),
  'P0001', 'the project was deleted too long ago to be restored',
  'restore past the window (31 days) is refused'
);
select throws_ok(
  format($$ update projects set status = 'archived' where id = %L $$, :'old_project'),
  'P0001', 'the project was deleted too long ago to be restored',
  'un-deleting into archived past the window is refused too'
);

-- ---------------------------------------------------------------------------------------------
-- tabs_version: one step at a time, once per transaction for every tab change
-- ---------------------------------------------------------------------------------------------
select tabs_version as v0 from projects where id = :'project' \gset
select throws_ok(
  format($$ update projects set tabs_version = tabs_version + 5 where id = %L $$, :'project'),
  'P0001', 'tabs_version moves one step at a time',
  'jumping tabs_version is refused'
);
select results_eq(
  format($$ insert into workspace_tabs (project_id, position, title, kind)
            values (%L, 0, 'Direct A', 'notes'), (%L, 1, 'Direct B', 'notes') returning position $$, :'project', :'project'),
  $$ values (0), (1) $$,
  'a direct insert of two tabs (one PostgREST request) succeeds'
);
select is((select tabs_version from projects where id = :'project'), :v0::bigint + 1,
  'the direct insert moved tabs_version by exactly one');

-- Each PostgREST request is its own transaction. pgTAP runs in one, so "the next request" is
-- simulated by forgetting this transaction's bump, which is what a new transaction id does.
select tests.clear_authentication();
delete from private.tabs_version_bumps where project_id = :'project';
select tests.authenticate_as(:'owner');

select lives_ok(
  format($$ update workspace_tabs set title = 'Direct A2' where project_id = %L and position = 0 $$, :'project'),
  'a direct tab update succeeds'
);
select is((select tabs_version from projects where id = :'project'), :v0::bigint + 2,
  'the direct update moved tabs_version by one');
select lives_ok(
  format($$ update workspace_tabs set title = 'Direct B' where project_id = %L and position = 1 $$, :'project'),
  'a second tab statement in the same transaction'
);
select is((select tabs_version from projects where id = :'project'), :v0::bigint + 2,
  'moves tabs_version no further (once per transaction)');

select tests.clear_authentication();
delete from private.tabs_version_bumps where project_id = :'project';
select tests.authenticate_as(:'owner');
select lives_ok(
  format($$ update workspace_tabs set title = title where project_id = %L $$, :'project'),
  'a no-op tab update'
);
select is((select tabs_version from projects where id = :'project'), :v0::bigint + 2,
  'changes no list, so the version stays');
select lives_ok(
  format($$ delete from workspace_tabs where project_id = %L and position = 1 $$, :'project'),
  'a direct tab delete'
);
select is((select tabs_version from projects where id = :'project'), :v0::bigint + 3,
  'the direct delete moved tabs_version by one');

-- The functions' path: the If-Match bump and the tab writes in one transaction move it once.
select tests.clear_authentication();
delete from private.tabs_version_bumps where project_id = :'project';
select tests.authenticate_as(:'owner');
select lives_ok(
  format($$ with bumped as (
              update projects set tabs_version = tabs_version + 1
               where id = %L and tabs_version = %s returning id, user_id
            ), removed as (
              delete from workspace_tabs w using bumped b where w.project_id = b.id returning w.id
            ), created as (
              insert into workspace_tabs (project_id, user_id, position, title, kind)
              select b.id, b.user_id, 0, 'Replaced', 'notes' from bumped b returning id
            )
            select (select count(*) from removed), (select count(*) from created) $$, :'project', :v0::bigint + 3),
  'the If-Match replacement (bump, delete, insert in one statement)'
);
select is((select tabs_version from projects where id = :'project'), :v0::bigint + 4,
  'moved tabs_version by exactly one');
select throws_ok(
  format($$ update projects set tabs_version = tabs_version - 1 where id = %L $$, :'project'),
  'P0001', 'tabs_version moves one step at a time',
  'stepping tabs_version back (to replay an old If-Match) is refused'
);

-- ---------------------------------------------------------------------------------------------
-- a deleted project's tab list is frozen
-- ---------------------------------------------------------------------------------------------
update projects set status = 'deleted' where id = :'project';
select tests.clear_authentication();
delete from private.tabs_version_bumps where project_id = :'project';
select tests.authenticate_as(:'owner');
select throws_ok(
  format($$ insert into workspace_tabs (project_id, position, title, kind) values (%L, 5, 'Ghost', 'notes') $$, :'project'),
  'P0001', 'the project is deleted',
  'inserting a tab into a deleted project is refused'
);
select throws_ok(
  format($$ update workspace_tabs set title = 'Ghost' where project_id = %L $$, :'project'),
  'P0001', 'the project is deleted',
  'editing a deleted project''s tab is refused'
);
select throws_ok(
  format($$ delete from workspace_tabs where project_id = %L $$, :'project'),
  'P0001', 'the project is deleted',
  'deleting a deleted project''s tab is refused'
);
select throws_ok(
  format($$ update projects set tabs_version = tabs_version + 1 where id = %L $$, :'project'),
  'P0001', 'the project is deleted',
  'bumping a deleted project''s tabs_version is refused'
);
update projects set status = 'active' where id = :'project';

-- ---------------------------------------------------------------------------------------------
-- tab ids: another user's tab id is just an unused id in your own project
-- ---------------------------------------------------------------------------------------------
select results_eq(
  format($$ insert into workspace_tabs (id, project_id, position, title, kind)
            values (%L, %L, 1, 'Borrowed id', 'notes') returning id $$, :'stranger_tab', :'project'),
  format($$ values (%L::uuid) $$, :'stranger_tab'),
  'a tab with another user''s tab id is created in the own project, like any unused uuid'
);
select results_eq(
  format($$ insert into workspace_tabs (id, project_id, position, title, kind)
            values (gen_random_uuid(), %L, 2, 'Fresh id', 'notes') returning 1 $$, :'project'),
  $$ values (1) $$,
  'a tab with an unused uuid: the same answer'
);
select is_empty(
  format($$ select 1 from workspace_tabs where id = %L and project_id <> %L $$, :'stranger_tab', :'project'),
  'the stranger''s tab stays invisible'
);
select tests.clear_authentication();
select results_eq(
  format($$ select title, user_id from workspace_tabs where id = %L and project_id = %L $$, :'stranger_tab', :'stranger_project'),
  format($$ values ('Secret', %L) $$, :'stranger'),
  'the stranger''s tab is unchanged'
);
select col_is_pk('public', 'workspace_tabs', array['project_id', 'id'], 'workspace_tabs is keyed on (project_id, id)');

-- ---------------------------------------------------------------------------------------------
-- columns a client may write (PostgREST answers 42501 for the others)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'owner');
select throws_ok(
  format($$ update projects set last_active_at = now() - interval '1 year' where id = %L $$, :'project'),
  '42501', null, 'last_active_at is not client-writable');
select throws_ok(
  format($$ update workspace_tabs set project_id = %L where project_id = %L $$, :'old_project', :'project'),
  '42501', null, 'a tab cannot be moved to another project by a client');
select throws_ok(
  $$ insert into projects (name, tabs_version) values ('Preset version', 7) $$,
  '42501', null, 'tabs_version cannot be chosen at insert');

-- Automation is bound by the constraints only (the purge and erasure jobs, fixtures).
select tests.authenticate_as_service_role();
select lives_ok(
  format($$ update projects set deleted_at = now() - interval '2 days', status = 'deleted' where id = %L $$, :'project'),
  'service_role may set a consistent deleted_at'
);

-- ---------------------------------------------------------------------------------------------
-- audit.append is not an API role's door
-- ---------------------------------------------------------------------------------------------
select tests.clear_authentication();
select ok(not has_function_privilege('authenticated', 'audit.append(text, text, text, text, jsonb)', 'execute'),
  'authenticated cannot execute audit.append');
select ok(not has_function_privilege('anon', 'audit.append(text, text, text, text, jsonb)', 'execute'),
  'anon cannot execute audit.append');
select ok(not has_function_privilege('public', 'audit.append(text, text, text, text, jsonb)', 'execute'),
  'public cannot execute audit.append');
select tests.authenticate_as(:'staff');
select throws_ok($$ select audit.append('forged.entry', 'public', 'users', 'user_someone') $$, '42501', null,
  'staff cannot append an arbitrary entry either');
select throws_ok($$ select audit.append_staff_read('user.role.changed', 'public', 'users', 'user_someone') $$,
  '42501', null, 'the staff read door takes read events only');
select tests.authenticate_as(:'owner');
select throws_ok($$ select audit.append_staff_read('dsar.request.viewed') $$, '42501', 'only staff record staff reads',
  'a plain user cannot use the staff read door');

select * from finish();
rollback;
