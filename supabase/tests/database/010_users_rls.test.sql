-- public.users: every verb tried by every actor (owner, stranger, staff, anon, service role).
-- A user reads and edits only their own row, and only display_name / preferences; staff read
-- everybody; a row is created just in time only for the token's own id and email; only the
-- service role deletes.
begin;
set search_path = public, extensions, tests;

select plan(49);

-- ---------------------------------------------------------------------------------------------
-- Fixtures (as postgres): random ids, nothing shared with other files or the seed.
-- ---------------------------------------------------------------------------------------------
select tests.create_user('owner') as owner \gset
select tests.create_user('stranger') as stranger \gset
select tests.create_user('support', 'support') as support \gset
select tests.create_user('admin', 'admin') as admin \gset
-- Ids with no row yet: JIT provisioning and service-role inserts.
select tests.random_id('user_jit') as jit \gset
select tests.random_id('user_svc') as svc \gset

update users
   set email = 'owner@example.invalid', first_name = 'Olive', display_name = 'Olive O',
       clerk_updated_at = '2026-01-01T00:00:00Z'
 where id = :'owner';
update users
   set email = 'stranger@example.invalid', first_name = 'Sam', display_name = 'Sam S'
 where id = :'stranger';

-- ---------------------------------------------------------------------------------------------
-- owner
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'owner');

select results_eq(
  format($$ select id, email from users where id = %L $$, :'owner'),
  format($$ values (%L, 'owner@example.invalid') $$, :'owner'),
  'owner: select returns their own row'
);

select is_empty(
  format($$ select id from users where id <> %L $$, :'owner'),
  'owner: select sees no other user''s row'
);

select results_eq(
  format($$ update users set display_name = 'Olive New', preferences = '{"theme":"dark"}'
             where id = %L returning display_name, preferences $$, :'owner'),
  $$ values ('Olive New', '{"theme":"dark"}'::jsonb) $$,
  'owner: update of display_name and preferences succeeds'
);

select tests.permission_denied('users', format($$ update users set role = 'admin' where id = %L $$, :'owner'),
  'owner: update of their own role is refused (column privilege)');

select tests.permission_denied('users', format($$ update users set email = 'other@example.invalid' where id = %L $$, :'owner'),
  'owner: update of their own email is refused (Clerk-owned)');

select tests.permission_denied('users', format($$ update users set first_name = 'Mallory' where id = %L $$, :'owner'),
  'owner: update of their own first_name is refused (Clerk-owned)');

select tests.permission_denied('users', format($$ update users set clerk_updated_at = now() where id = %L $$, :'owner'),
  'owner: update of their own clerk_updated_at is refused (Clerk-owned)');

select tests.permission_denied('users', format($$ update users set id = 'user_renamed' where id = %L $$, :'owner'),
  'owner: update of their own id is refused');

select throws_ok(
  format($$ insert into users (id, email) values (%L, null) $$, :'jit'),
  '42501', 'new row violates row-level security policy for table "users"',
  'owner: insert of a row for another id is refused'
);

select tests.permission_denied('users', format($$ delete from users where id = %L $$, :'owner'),
  'owner: delete of their own row is refused');

select tests.clear_authentication();
select results_eq(
  format($$ select role, email, first_name, clerk_updated_at, display_name
              from users where id = %L $$, :'owner'),
  $$ values ('user', 'owner@example.invalid', 'Olive', '2026-01-01T00:00:00Z'::timestamptz, 'Olive New') $$,
  'owner: after the refused attempts, role and Clerk fields are unchanged and the row exists'
);
select is_empty(
  format($$ select 1 from users where id = %L $$, :'jit'),
  'owner: no row was created for the other id'
);

-- ---------------------------------------------------------------------------------------------
-- stranger (a regular user acting on the owner's row)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'stranger');

select is_empty(
  format($$ select id from users where id = %L $$, :'owner'),
  'stranger: select of the owner''s row returns nothing'
);

with r as (
  update users set display_name = 'Hacked' where id = :'owner' returning 1
)
select is(count(*)::int, 0, 'stranger: update of the owner''s display_name affects no row') from r;

select tests.permission_denied('users', format($$ update users set role = 'user' where id = %L $$, :'owner'),
  'stranger: update of the owner''s role is refused');

select throws_ok(
  format($$ insert into users (id) values (%L) $$, :'jit'),
  '42501', 'new row violates row-level security policy for table "users"',
  'stranger: insert of a row for another id is refused'
);

select tests.permission_denied('users', format($$ delete from users where id = %L $$, :'owner'),
  'stranger: delete of the owner''s row is refused');

select tests.clear_authentication();
select results_eq(
  format($$ select display_name, role from users where id = %L $$, :'owner'),
  $$ values ('Olive New', 'user') $$,
  'stranger: the owner''s row is unchanged'
);

-- ---------------------------------------------------------------------------------------------
-- JIT provisioning (a signed-in user whose row does not exist yet)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'jit', '{"email":"jit@example.invalid"}');

select is_empty(
  format($$ select 1 from users where id = %L $$, :'jit'),
  'jit: before provisioning the caller has no row'
);

select throws_ok(
  format($$ insert into users (id, email) values (%L, 'someone-else@example.invalid') $$, :'jit'),
  '42501', 'new row violates row-level security policy for table "users"',
  'jit: insert of the own row with an email other than the token''s is refused'
);

select tests.permission_denied('users', format($$ insert into users (id, email, role) values (%L, 'jit@example.invalid', 'admin') $$, :'jit'),
  'jit: insert of the own row choosing a role is refused (column privilege)');

select throws_ok(
  format($$ insert into users (id, email) values (%L, 'jit@example.invalid') $$, :'svc'),
  '42501', 'new row violates row-level security policy for table "users"',
  'jit: insert of a row for another id, even with the token''s email, is refused'
);

select results_eq(
  format($$ insert into users (id, email, first_name) values (%L, 'jit@example.invalid', 'Jay')
            returning id, email, role $$, :'jit'),
  format($$ values (%L, 'jit@example.invalid', 'user') $$, :'jit'),
  'jit: insert of the own row with the token''s email succeeds, with role user'
);

select tests.clear_authentication();
select results_eq(
  format($$ select email, role from users where id = %L $$, :'jit'),
  $$ values ('jit@example.invalid', 'user') $$,
  'jit: exactly the provisioned row exists, with the token''s email'
);

-- A token without an email claim may still provision a row without an email, but not with one.
select tests.authenticate_as(:'svc');
select throws_ok(
  format($$ insert into users (id, email) values (%L, 'svc@example.invalid') $$, :'svc'),
  '42501', 'new row violates row-level security policy for table "users"',
  'jit: with no email claim in the token, an email cannot be provisioned'
);
select results_eq(
  format($$ insert into users (id) values (%L) returning id, email $$, :'svc'),
  format($$ values (%L, null::text) $$, :'svc'),
  'jit: with no email claim in the token, the own row without email is provisioned'
);
select tests.clear_authentication();
delete from users where id = :'svc';

-- ---------------------------------------------------------------------------------------------
-- staff (support and admin read everybody; they edit nobody else)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'support');

select results_eq(
  format($$ select id from users where id in (%L, %L) order by id $$, :'owner', :'stranger'),
  format($$ select unnest(array[%L, %L]) order by 1 $$, :'owner', :'stranger'),
  'support: select returns other users'' rows'
);

with r as (
  update users set display_name = 'By support' where id = :'owner' returning 1
)
select is(count(*)::int, 0, 'support: update of another user''s row affects no row') from r;

select tests.permission_denied('users', format($$ update users set role = 'admin' where id = %L $$, :'support'),
  'support: update of their own role is refused');

select tests.permission_denied('users', format($$ delete from users where id = %L $$, :'stranger'),
  'support: delete is refused');

select tests.authenticate_as(:'admin');

select results_eq(
  format($$ select id from users where id in (%L, %L) order by id $$, :'owner', :'stranger'),
  format($$ select unnest(array[%L, %L]) order by 1 $$, :'owner', :'stranger'),
  'admin: select returns other users'' rows'
);

with r as (
  update users set display_name = 'By admin' where id = :'owner' returning 1
)
select is(count(*)::int, 0, 'admin: update of another user''s row affects no row') from r;

select tests.permission_denied('users', format($$ update users set role = 'support' where id = %L $$, :'owner'),
  'admin: update of another user''s role through the API is refused');

select tests.permission_denied('users', format($$ delete from users where id = %L $$, :'stranger'),
  'admin: delete is refused');

-- A role claim in the token does not make a user staff: the role column decides.
select tests.authenticate_as(:'stranger', '{"user_role":"admin","app_metadata":{"role":"admin"}}');
select is_empty(
  format($$ select id from users where id = %L $$, :'owner'),
  'stranger: a role claim in the token does not grant staff reads'
);

select tests.clear_authentication();
select results_eq(
  format($$ select display_name, role from users where id = %L $$, :'owner'),
  $$ values ('Olive New', 'user') $$,
  'staff: the owner''s row is unchanged'
);
select is(
  (select count(*)::int from users where id in (:'owner', :'stranger', :'support', :'admin')),
  4,
  'staff: no test user was deleted'
);

-- ---------------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();

select tests.permission_denied('users', format($$ select id from users where id = %L $$, :'owner'),
  'anon: select is refused');

select tests.permission_denied('users', format($$ insert into users (id) values (%L) $$, :'svc'),
  'anon: insert is refused');

select tests.permission_denied('users', format($$ update users set display_name = 'anon' where id = %L $$, :'owner'),
  'anon: update is refused');

select tests.permission_denied('users', format($$ delete from users where id = %L $$, :'owner'),
  'anon: delete is refused');

select tests.clear_authentication();
select results_eq(
  format($$ select display_name from users where id = %L $$, :'owner'),
  $$ values ('Olive New') $$,
  'anon: the owner''s row is unchanged'
);
select is_empty(
  format($$ select 1 from users where id = %L $$, :'svc'),
  'anon: no row was created'
);

-- ---------------------------------------------------------------------------------------------
-- service role (webhook / erasure automation; bypasses RLS)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();

select results_eq(
  format($$ select id from users where id in (%L, %L) order by id $$, :'owner', :'stranger'),
  format($$ select unnest(array[%L, %L]) order by 1 $$, :'owner', :'stranger'),
  'service role: select returns any user''s row'
);

select results_eq(
  format($$ insert into users (id, email, role) values (%L, 'svc@example.invalid', 'support')
            returning id, role $$, :'svc'),
  format($$ values (%L, 'support') $$, :'svc'),
  'service role: insert of any row, role included, succeeds'
);

select results_eq(
  format($$ update users set role = 'admin', email = 'new-owner@example.invalid',
                   clerk_updated_at = '2026-02-01T00:00:00Z'
             where id = %L returning role, email $$, :'owner'),
  $$ values ('admin', 'new-owner@example.invalid') $$,
  'service role: update of role and Clerk fields succeeds'
);

select results_eq(
  format($$ delete from users where id = %L returning id $$, :'svc'),
  format($$ values (%L) $$, :'svc'),
  'service role: delete succeeds'
);

select tests.clear_authentication();
select is_empty(
  format($$ select 1 from users where id = %L $$, :'svc'),
  'service role: the deleted row is gone'
);
select results_eq(
  format($$ select role from users where id = %L $$, :'owner'),
  $$ values ('admin') $$,
  'service role: the role change is stored'
);

select * from finish();
rollback;
