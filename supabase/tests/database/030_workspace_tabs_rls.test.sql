-- public.workspace_tabs: every verb tried by every actor (owner, stranger, anon, service role).
-- Owners manage the tabs of their own projects; the owner column cannot be spoofed, a tab cannot
-- be planted in someone else's project, and a tab cannot be moved to another project.
begin;
set search_path = public, extensions, tests;

select plan(32);

-- ---------------------------------------------------------------------------------------------
-- Fixtures (as postgres)
-- ---------------------------------------------------------------------------------------------
select tests.create_user('owner') as owner \gset
select tests.create_user('stranger') as stranger \gset

insert into projects (user_id, name) values (:'owner', 'Owner project')
returning id as owner_project \gset
insert into projects (user_id, name) values (:'owner', 'Owner second project')
returning id as owner_project_2 \gset
insert into projects (user_id, name) values (:'stranger', 'Stranger project')
returning id as stranger_project \gset

insert into workspace_tabs (project_id, user_id, position, title, kind)
values (:'owner_project', :'owner', 0, 'Owner tab', 'brief')
returning id as owner_tab \gset
insert into workspace_tabs (project_id, user_id, position, title, kind)
values (:'stranger_project', :'stranger', 0, 'Stranger tab', 'notes')
returning id as stranger_tab \gset

-- ---------------------------------------------------------------------------------------------
-- owner
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'owner');

select results_eq(
  format($$ select id, title from workspace_tabs where id in (%L, %L) $$, :'owner_tab', :'stranger_tab'),
  format($$ values (%L::uuid, 'Owner tab') $$, :'owner_tab'),
  'owner: select returns their own tab and not the stranger''s'
);

select is_empty(
  format($$ select id from workspace_tabs where user_id <> %L $$, :'owner'),
  'owner: select sees no tab of any other user'
);

select results_eq(
  format($$ insert into workspace_tabs (project_id, position, title, kind, metadata)
            values (%L, 1, 'Second tab', 'notes', '{"activeBriefSectionIds":["a","b"]}')
            returning user_id, position, kind $$, :'owner_project'),
  format($$ values (%L, 1, 'notes') $$, :'owner'),
  'owner: insert into their own project succeeds and user_id defaults to the token''s sub'
);

select throws_ok(
  format($$ insert into workspace_tabs (project_id, user_id, position, title, kind)
            values (%L, %L, 2, 'Spoofed', 'notes') $$, :'owner_project', :'stranger'),
  '42501', 'new row violates row-level security policy for table "workspace_tabs"',
  'owner: insert with another user''s user_id (spoofed) is refused by with check'
);

select throws_ok(
  format($$ insert into workspace_tabs (project_id, user_id, position, title, kind)
            values (%L, %L, 5, 'Planted', 'notes') $$, :'stranger_project', :'stranger'),
  '42501', 'new row violates row-level security policy for table "workspace_tabs"',
  'owner: insert into the stranger''s project as the stranger is refused by with check'
);

select throws_ok(
  format($$ insert into workspace_tabs (project_id, position, title, kind)
            values (%L, 5, 'Planted', 'notes') $$, :'stranger_project'),
  '23503', null,
  'owner: insert into the stranger''s project as themselves is refused by the composite foreign key'
);

select results_eq(
  format($$ update workspace_tabs set title = 'Renamed tab', kind = 'brief_v2', metadata = '{"x":1}'
             where id = %L returning title, kind $$, :'owner_tab'),
  $$ values ('Renamed tab', 'brief_v2') $$,
  'owner: update of title, kind and metadata succeeds'
);

select results_eq(
  format($$ update workspace_tabs set position = 7 where id = %L returning position $$, :'owner_tab'),
  $$ values (7) $$,
  'owner: update of position succeeds'
);

select throws_ok(
  format($$ update workspace_tabs set project_id = %L where id = %L $$, :'owner_project_2', :'owner_tab'),
  '42501', 'permission denied for table workspace_tabs',
  'owner: moving a tab to another project is refused (column privilege)'
);

select throws_ok(
  format($$ update workspace_tabs set user_id = %L where id = %L $$, :'stranger', :'owner_tab'),
  '42501', 'permission denied for table workspace_tabs',
  'owner: giving a tab to another user is refused (column privilege)'
);

select results_eq(
  format($$ delete from workspace_tabs where project_id = %L and position = 1 returning title $$, :'owner_project'),
  $$ values ('Second tab') $$,
  'owner: delete of their own tab succeeds'
);

select tests.clear_authentication();
select results_eq(
  format($$ select project_id, user_id, position, title from workspace_tabs where id = %L $$, :'owner_tab'),
  format($$ values (%L::uuid, %L, 7, 'Renamed tab') $$, :'owner_project', :'owner'),
  'owner: after the refused attempts the tab keeps its project and owner'
);
select is_empty(
  format($$ select 1 from workspace_tabs where project_id in (%L, %L) and title in ('Spoofed', 'Planted') $$,
         :'owner_project', :'stranger_project'),
  'owner: no spoofed or planted tab exists'
);

-- ---------------------------------------------------------------------------------------------
-- stranger (acting on the owner's tab and project)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'stranger');

select is_empty(
  format($$ select id from workspace_tabs where id = %L or project_id = %L $$, :'owner_tab', :'owner_project'),
  'stranger: select of the owner''s tabs returns nothing'
);

with r as (
  update workspace_tabs set title = 'Hacked' where id = :'owner_tab' returning 1
)
select is(count(*)::int, 0, 'stranger: update of the owner''s tab affects no row') from r;

with r as (
  delete from workspace_tabs where id = :'owner_tab' returning 1
)
select is(count(*)::int, 0, 'stranger: delete of the owner''s tab affects no row') from r;

select throws_ok(
  format($$ insert into workspace_tabs (project_id, user_id, position, title, kind)
            values (%L, %L, 3, 'Planted', 'notes') $$, :'owner_project', :'owner'),
  '42501', 'new row violates row-level security policy for table "workspace_tabs"',
  'stranger: insert of a tab for the owner is refused by with check'
);

select throws_ok(
  format($$ insert into workspace_tabs (project_id, position, title, kind)
            values (%L, 3, 'Planted', 'notes') $$, :'owner_project'),
  '23503', null,
  'stranger: insert of their own tab into the owner''s project is refused by the composite foreign key'
);

select tests.clear_authentication();
select results_eq(
  format($$ select title, position from workspace_tabs where id = %L $$, :'owner_tab'),
  $$ values ('Renamed tab', 7) $$,
  'stranger: the owner''s tab exists and is unchanged'
);
select is_empty(
  format($$ select 1 from workspace_tabs where project_id = %L and title = 'Planted' $$, :'owner_project'),
  'stranger: no tab was planted in the owner''s project'
);

-- ---------------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();

select throws_ok(
  format($$ select id from workspace_tabs where id = %L $$, :'owner_tab'),
  '42501', 'permission denied for table workspace_tabs',
  'anon: select is refused'
);

select throws_ok(
  format($$ insert into workspace_tabs (project_id, user_id, position, title, kind)
            values (%L, %L, 3, 'Anon', 'notes') $$, :'owner_project', :'owner'),
  '42501', 'permission denied for table workspace_tabs',
  'anon: insert is refused'
);

select throws_ok(
  format($$ update workspace_tabs set title = 'Anon' where id = %L $$, :'owner_tab'),
  '42501', 'permission denied for table workspace_tabs',
  'anon: update is refused'
);

select throws_ok(
  format($$ delete from workspace_tabs where id = %L $$, :'owner_tab'),
  '42501', 'permission denied for table workspace_tabs',
  'anon: delete is refused'
);

select tests.clear_authentication();
select results_eq(
  format($$ select title from workspace_tabs where id = %L $$, :'owner_tab'),
  $$ values ('Renamed tab') $$,
  'anon: the owner''s tab exists and is unchanged'
);
select is_empty(
  format($$ select 1 from workspace_tabs where project_id = %L and title = 'Anon' $$, :'owner_project'),
  'anon: no tab was created'
);

-- ---------------------------------------------------------------------------------------------
-- service role (automation; bypasses RLS but not the constraints)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();

select results_eq(
  format($$ select id from workspace_tabs where id in (%L, %L) order by id $$, :'owner_tab', :'stranger_tab'),
  format($$ select unnest(array[%L::uuid, %L::uuid]) order by 1 $$, :'owner_tab', :'stranger_tab'),
  'service role: select returns any user''s tabs'
);

select results_eq(
  format($$ insert into workspace_tabs (project_id, user_id, position, title, kind)
            values (%L, %L, 1, 'By automation', 'notes') returning user_id, position $$,
         :'stranger_project', :'stranger'),
  format($$ values (%L, 1) $$, :'stranger'),
  'service role: insert of a tab for any user succeeds'
);

select results_eq(
  format($$ update workspace_tabs set title = 'Updated by automation' where id = %L returning title $$, :'stranger_tab'),
  $$ values ('Updated by automation') $$,
  'service role: update of any tab succeeds'
);

select results_eq(
  format($$ delete from workspace_tabs where id = %L returning id $$, :'stranger_tab'),
  format($$ values (%L::uuid) $$, :'stranger_tab'),
  'service role: delete of any tab succeeds'
);

select tests.clear_authentication();
select is_empty(
  format($$ select 1 from workspace_tabs where id = %L $$, :'stranger_tab'),
  'service role: the deleted tab is gone'
);
select results_eq(
  format($$ select title, position from workspace_tabs where project_id = %L $$, :'stranger_project'),
  $$ values ('By automation', 1) $$,
  'service role: the inserted tab is stored'
);

select * from finish();
rollback;
