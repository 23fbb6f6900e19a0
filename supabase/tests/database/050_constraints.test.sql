-- Table constraints: they hold for every caller (run as postgres unless said otherwise; the
-- composite foreign key is also tried as the service role, which bypasses RLS but not this).
begin;
set search_path = public, extensions, tests;

select plan(46);

-- ---------------------------------------------------------------------------------------------
-- Fixtures (as postgres)
-- ---------------------------------------------------------------------------------------------
select tests.create_user('owner') as owner \gset
select tests.create_user('stranger') as stranger \gset

insert into projects (user_id, name) values (:'owner', 'Owner project')
returning id as project \gset
insert into projects (user_id, name) values (:'stranger', 'Stranger project')
returning id as stranger_project \gset

insert into workspace_tabs (project_id, user_id, position, title, kind)
values (:'project', :'owner', 0, 'First', 'brief')
returning id as tab_a \gset
insert into workspace_tabs (project_id, user_id, position, title, kind)
values (:'project', :'owner', 1, 'Second', 'notes')
returning id as tab_b \gset

-- ---------------------------------------------------------------------------------------------
-- users
-- ---------------------------------------------------------------------------------------------
select throws_ok($$ insert into users (id) values ('abc') $$, '23514', null,
  'users: an id without the user_ prefix is refused');
select throws_ok($$ insert into users (id) values ('user_') $$, '23514', null,
  'users: an id with nothing after user_ is refused');
select throws_ok($$ insert into users (id) values ('user_abc-def') $$, '23514', null,
  'users: an id with characters outside [A-Za-z0-9] is refused');
select throws_ok($$ insert into users (id) values ('0b7f6c55-8a3e-4c4e-9f38-2f1e0c1d7a11') $$, '23514', null,
  'users: a uuid is not a Clerk user id');
select throws_ok(format($$ insert into users (id) values ('user_%s') $$, repeat('a', 65)), '23514', null,
  'users: an id longer than user_ + 64 characters is refused');
select lives_ok(format($$ insert into users (id) values ('user_%s') $$, repeat('Z9', 32)),
  'users: an id of user_ + 64 alphanumerics is accepted');

select throws_ok(format($$ update users set email = 'not-an-email' where id = %L $$, :'owner'), '23514', null,
  'users: an email without @ is refused');
select throws_ok(format($$ update users set display_name = '' where id = %L $$, :'owner'), '23514', null,
  'users: an empty display_name is refused');
select throws_ok(format($$ update users set display_name = %L where id = %L $$, repeat('x', 101), :'owner'), '23514', null,
  'users: a display_name over 100 characters is refused');
select throws_ok(format($$ update users set preferences = '[]' where id = %L $$, :'owner'), '23514', null,
  'users: non-object preferences are refused');
select throws_ok(format($$ update users set role = 'superuser' where id = %L $$, :'owner'), '23514', null,
  'users: an unknown role is refused');
select throws_ok(format($$ update users set image_url = 'http://insecure.example/x.png' where id = %L $$, :'owner'), '23514', null,
  'users: a non-https image_url is refused');

-- ---------------------------------------------------------------------------------------------
-- projects
-- ---------------------------------------------------------------------------------------------
select throws_ok(format($$ insert into projects (user_id, name) values (%L, '') $$, :'owner'), '23514', null,
  'projects: a name of length 0 is refused');
select throws_ok(format($$ insert into projects (user_id, name) values (%L, %L) $$, :'owner', repeat('n', 201)), '23514', null,
  'projects: a name of length 201 is refused');
select lives_ok(format($$ insert into projects (user_id, name) values (%L, %L) $$, :'owner', repeat('n', 200)),
  'projects: a name of length 200 is accepted');
select lives_ok(format($$ insert into projects (user_id, name) values (%L, 'n') $$, :'owner'),
  'projects: a name of length 1 is accepted');
select throws_ok(format($$ insert into projects (user_id, name) values (%L, null) $$, :'owner'), '23502', null,
  'projects: a null name is refused');

select throws_ok(format($$ insert into projects (user_id, name, metadata) values (%L, 'p', '[]') $$, :'owner'), '23514', null,
  'projects: array metadata is refused');
select throws_ok(format($$ insert into projects (user_id, name, metadata) values (%L, 'p', '"text"') $$, :'owner'), '23514', null,
  'projects: string metadata is refused');
select throws_ok(format($$ insert into projects (user_id, name, metadata) values (%L, 'p', 'null') $$, :'owner'), '23514', null,
  'projects: JSON null metadata is refused');

select throws_ok(format($$ update projects set status = 'deleted' where id = %L $$, :'project'), '23514', null,
  'projects: status deleted without deleted_at is refused');
select throws_ok(format($$ update projects set deleted_at = now() where id = %L $$, :'project'), '23514', null,
  'projects: deleted_at on an active project is refused');
select throws_ok(format($$ update projects set status = 'archived', deleted_at = now() where id = %L $$, :'project'), '23514', null,
  'projects: deleted_at on an archived project is refused');
select throws_ok(format($$ update projects set status = 'gone', deleted_at = now() where id = %L $$, :'project'), '23514', null,
  'projects: an unknown status is refused');
select throws_ok(format($$ update projects set tabs_version = -1 where id = %L $$, :'project'), '23514', null,
  'projects: a negative tabs_version is refused');
select throws_ok($$ insert into projects (user_id, name) values ('user_doesNotExist0', 'p') $$, '23503', null,
  'projects: a project of an unknown user is refused');

-- ---------------------------------------------------------------------------------------------
-- workspace_tabs
-- ---------------------------------------------------------------------------------------------
select throws_ok(
  format($$ insert into workspace_tabs (project_id, user_id, position, title, kind)
            values (%L, %L, 0, 'Duplicate position', 'notes') $$, :'project', :'owner'),
  '23505', null,
  'tabs: a duplicate (project_id, position) is refused');

select throws_ok(
  format($$ update workspace_tabs set position = 1 where id = %L $$, :'tab_a'),
  '23505', null,
  'tabs: moving onto an occupied position without deferring is refused at the statement');

select throws_ok(
  format($$ insert into workspace_tabs (project_id, user_id, position, title, kind)
            values (%L, %L, -1, 't', 'notes') $$, :'project', :'owner'),
  '23514', null,
  'tabs: a negative position is refused');

select throws_ok(format($$ update workspace_tabs set title = '' where id = %L $$, :'tab_a'), '23514', null,
  'tabs: an empty title is refused');
select throws_ok(format($$ update workspace_tabs set title = %L where id = %L $$, repeat('t', 201), :'tab_a'), '23514', null,
  'tabs: a title over 200 characters is refused');
select throws_ok(format($$ update workspace_tabs set kind = 'Brief' where id = %L $$, :'tab_a'), '23514', null,
  'tabs: a kind that is not a lowercase slug is refused');
select throws_ok(format($$ update workspace_tabs set metadata = '[]' where id = %L $$, :'tab_a'), '23514', null,
  'tabs: non-object metadata is refused');

select throws_ok(
  format($$ update workspace_tabs set metadata = '{"activeBriefSectionIds": "goals"}' where id = %L $$, :'tab_a'),
  '23514', null,
  'tabs: activeBriefSectionIds that is not an array is refused');
select throws_ok(
  format($$ update workspace_tabs set metadata = '{"activeBriefSectionIds": {"0": "goals"}}' where id = %L $$, :'tab_a'),
  '23514', null,
  'tabs: activeBriefSectionIds that is an object is refused');
select throws_ok(
  format($$ update workspace_tabs set metadata = '{"activeBriefSectionIds": ["goals", 2]}' where id = %L $$, :'tab_a'),
  '23514', null,
  'tabs: activeBriefSectionIds containing a number is refused');
select throws_ok(
  format($$ update workspace_tabs set metadata = '{"activeBriefSectionIds": ["goals", null]}' where id = %L $$, :'tab_a'),
  '23514', null,
  'tabs: activeBriefSectionIds containing null is refused');
select throws_ok(
  format($$ update workspace_tabs set metadata = '{"activeBriefSectionIds": [["goals"]]}' where id = %L $$, :'tab_a'),
  '23514', null,
  'tabs: activeBriefSectionIds containing a nested array is refused');
select lives_ok(
  format($$ update workspace_tabs set metadata = '{"activeBriefSectionIds": ["goals", "risks"]}' where id = %L $$, :'tab_a'),
  'tabs: activeBriefSectionIds as an array of strings is accepted');
select lives_ok(
  format($$ update workspace_tabs set metadata = '{"activeBriefSectionIds": []}' where id = %L $$, :'tab_a'),
  'tabs: an empty activeBriefSectionIds array is accepted');

-- Composite foreign key (project_id, user_id) -> projects (id, user_id): a tab's owner is its
-- project's owner, whoever writes it.
select tests.authenticate_as_service_role();

select throws_ok(
  format($$ insert into workspace_tabs (project_id, user_id, position, title, kind)
            values (%L, %L, 5, 'Foreign owner', 'notes') $$, :'project', :'stranger'),
  '23503', null,
  'tabs (service role): a tab whose user_id is not the project''s owner is refused');

select throws_ok(
  format($$ update workspace_tabs set user_id = %L where id = %L $$, :'stranger', :'tab_a'),
  '23503', null,
  'tabs (service role): changing a tab''s user_id away from the project''s owner is refused');

select throws_ok(
  format($$ update workspace_tabs set project_id = %L where id = %L $$, :'stranger_project', :'tab_a'),
  '23503', null,
  'tabs (service role): moving a tab into another user''s project is refused');

select tests.clear_authentication();

-- Deferrable unique (project_id, position): two tabs swap positions in one transaction, with the
-- duplicate existing only between the two statements.
set constraints public.workspace_tabs_project_id_position_key deferred;
update workspace_tabs set position = 1 where id = :'tab_a';
update workspace_tabs set position = 0 where id = :'tab_b';
select lives_ok(
  $$ set constraints public.workspace_tabs_project_id_position_key immediate $$,
  'tabs: a swap through a temporary duplicate passes once the constraint is checked again');

select results_eq(
  format($$ select id, position from workspace_tabs where project_id = %L order by position $$, :'project'),
  format($$ values (%L::uuid, 0), (%L::uuid, 1) $$, :'tab_b', :'tab_a'),
  'tabs: the two positions are swapped');

-- ...and a duplicate that is still there when the deferred check runs is refused.
set constraints public.workspace_tabs_project_id_position_key deferred;
update workspace_tabs set position = 0 where id = :'tab_a';
select throws_ok(
  $$ set constraints public.workspace_tabs_project_id_position_key immediate $$,
  '23505', null,
  'tabs: a duplicate left at the deferred check is refused');

select * from finish();
rollback;
