-- public.projects: every verb tried by every actor (owner, stranger, anon, service role).
-- Owners read, create and edit (including soft delete through status) their own projects only;
-- the owner column cannot be spoofed or changed; hard deletes belong to the service role.
begin;
set search_path = public, extensions, tests;

select plan(34);

-- ---------------------------------------------------------------------------------------------
-- Fixtures (as postgres)
-- ---------------------------------------------------------------------------------------------
select tests.create_user('owner') as owner \gset
select tests.create_user('stranger') as stranger \gset

insert into projects (user_id, name, description) values (:'owner', 'Owner project', 'Owner text')
returning id as owner_project \gset
insert into projects (user_id, name) values (:'stranger', 'Stranger project')
returning id as stranger_project \gset

-- ---------------------------------------------------------------------------------------------
-- owner
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'owner');

select results_eq(
  format($$ select id, name from projects where id in (%L, %L) $$, :'owner_project', :'stranger_project'),
  format($$ values (%L::uuid, 'Owner project') $$, :'owner_project'),
  'owner: select returns their own project and not the stranger''s'
);

select is_empty(
  format($$ select id from projects where user_id <> %L $$, :'owner'),
  'owner: select sees no project of any other user'
);

select results_eq(
  $$ insert into projects (name, metadata) values ('Created by owner', '{"color":"blue"}')
     returning user_id, name, status, tabs_version $$,
  format($$ values (%L, 'Created by owner', 'active', 0::bigint) $$, :'owner'),
  'owner: insert succeeds and user_id defaults to the token''s sub'
);

select results_eq(
  format($$ insert into projects (user_id, name) values (%L, 'Explicit owner') returning user_id $$, :'owner'),
  format($$ values (%L) $$, :'owner'),
  'owner: insert with their own user_id given explicitly succeeds'
);

select throws_ok(
  format($$ insert into projects (user_id, name) values (%L, 'Spoofed') $$, :'stranger'),
  '42501', 'new row violates row-level security policy for table "projects"',
  'owner: insert with another user''s user_id (spoofed) is refused by with check'
);

select tests.permission_denied('projects', $$ insert into projects (name, status) values ('Archived at birth', 'archived') $$,
  'owner: insert choosing the status is refused (column privilege)');

select results_eq(
  format($$ update projects set name = 'Renamed', description = null, metadata = '{"k":1}',
                                tabs_version = tabs_version + 1
             where id = %L returning name, description, tabs_version $$, :'owner_project'),
  $$ values ('Renamed', null::text, 1::bigint) $$,
  'owner: update of name, description, metadata and tabs_version succeeds'
);

select results_eq(
  format($$ update projects set status = 'deleted', deleted_at = now()
             where id = %L returning status, deleted_at is not null $$, :'owner_project'),
  $$ values ('deleted', true) $$,
  'owner: soft delete (status deleted + deleted_at) succeeds'
);

select results_eq(
  format($$ update projects set status = 'active', deleted_at = null
             where id = %L returning status, deleted_at $$, :'owner_project'),
  $$ values ('active', null::timestamptz) $$,
  'owner: restore of a soft-deleted project succeeds'
);

select tests.permission_denied('projects', format($$ update projects set user_id = %L where id = %L $$, :'stranger', :'owner_project'),
  'owner: update giving the project to another user is refused (column privilege)');

select tests.permission_denied('projects', format($$ update projects set last_active_at = now() - interval '1 day', created_at = now()
             where id = %L $$, :'owner_project'),
  'owner: update of server-managed timestamps is refused (column privilege)');

select tests.permission_denied('projects', format($$ delete from projects where id = %L $$, :'owner_project'),
  'owner: hard delete of their own project is refused');

select tests.clear_authentication();
select results_eq(
  format($$ select user_id, name, status from projects where id = %L $$, :'owner_project'),
  format($$ values (%L, 'Renamed', 'active') $$, :'owner'),
  'owner: after the refused attempts the project exists, with the same owner'
);
select is_empty(
  format($$ select 1 from projects where user_id = %L and name = 'Spoofed' $$, :'stranger'),
  'owner: no spoofed project was created for the stranger'
);

-- ---------------------------------------------------------------------------------------------
-- stranger (acting on the owner's project)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'stranger');

select is_empty(
  format($$ select id from projects where id = %L $$, :'owner_project'),
  'stranger: select of the owner''s project returns nothing'
);

with r as (
  update projects set name = 'Hacked' where id = :'owner_project' returning 1
)
select is(count(*)::int, 0, 'stranger: update of the owner''s project affects no row') from r;

with r as (
  update projects set status = 'deleted', deleted_at = now() where id = :'owner_project' returning 1
)
select is(count(*)::int, 0, 'stranger: soft delete of the owner''s project affects no row') from r;

select throws_ok(
  format($$ insert into projects (user_id, name) values (%L, 'Planted') $$, :'owner'),
  '42501', 'new row violates row-level security policy for table "projects"',
  'stranger: insert of a project for the owner is refused'
);

select tests.permission_denied('projects', format($$ delete from projects where id = %L $$, :'owner_project'),
  'stranger: delete of the owner''s project is refused');

select tests.clear_authentication();
select results_eq(
  format($$ select name, status, deleted_at from projects where id = %L $$, :'owner_project'),
  $$ values ('Renamed', 'active', null::timestamptz) $$,
  'stranger: the owner''s project is unchanged'
);
select is_empty(
  format($$ select 1 from projects where user_id = %L and name = 'Planted' $$, :'owner'),
  'stranger: no project was planted for the owner'
);

-- ---------------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();

select tests.permission_denied('projects', format($$ select id from projects where id = %L $$, :'owner_project'),
  'anon: select is refused');

select tests.permission_denied('projects', format($$ insert into projects (user_id, name) values (%L, 'Anon') $$, :'owner'),
  'anon: insert is refused');

select tests.permission_denied('projects', format($$ update projects set name = 'Anon' where id = %L $$, :'owner_project'),
  'anon: update is refused');

select tests.permission_denied('projects', format($$ delete from projects where id = %L $$, :'owner_project'),
  'anon: delete is refused');

select tests.clear_authentication();
select results_eq(
  format($$ select name from projects where id = %L $$, :'owner_project'),
  $$ values ('Renamed') $$,
  'anon: the owner''s project is unchanged'
);
select is_empty(
  format($$ select 1 from projects where user_id = %L and name = 'Anon' $$, :'owner'),
  'anon: no project was created'
);

-- ---------------------------------------------------------------------------------------------
-- service role (automation; bypasses RLS)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();

select results_eq(
  format($$ select id from projects where id in (%L, %L) order by id $$, :'owner_project', :'stranger_project'),
  format($$ select unnest(array[%L::uuid, %L::uuid]) order by 1 $$, :'owner_project', :'stranger_project'),
  'service role: select returns any user''s projects'
);

select results_eq(
  format($$ insert into projects (user_id, name, status) values (%L, 'By automation', 'archived')
            returning user_id, status $$, :'stranger'),
  format($$ values (%L, 'archived') $$, :'stranger'),
  'service role: insert of a project for any user succeeds'
);

select throws_ok(
  $$ insert into projects (name) values ('No owner') $$,
  '23502', null,
  'service role: insert without user_id fails (no sub to default from)'
);

select results_eq(
  format($$ update projects set name = 'Updated by automation' where id = %L returning name $$, :'stranger_project'),
  $$ values ('Updated by automation') $$,
  'service role: update of any project succeeds'
);

select results_eq(
  format($$ delete from projects where id = %L returning id $$, :'stranger_project'),
  format($$ values (%L::uuid) $$, :'stranger_project'),
  'service role: hard delete (purge) succeeds'
);

select tests.clear_authentication();
select is_empty(
  format($$ select 1 from projects where id = %L $$, :'stranger_project'),
  'service role: the purged project is gone'
);
select results_eq(
  format($$ select count(*)::int from projects where user_id = %L $$, :'owner'),
  $$ values (3) $$,
  'the owner still has exactly their three projects'
);

select * from finish();
rollback;
