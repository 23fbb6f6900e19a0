-- Staff management and user lookup for the support console (20261202120000, 20261202120100),
-- sectioned by actor: admin, support, user, anon, the operator (a database session).
begin;
set search_path = public, extensions, tests;

select plan(29);

-- Structure: both in the unexposed private schema, definer, empty search_path, API role: authenticated only.
select ok(
  (select bool_and(p.prosecdef and p.proconfig @> array['search_path=""'])
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'private' and p.proname in ('staff_members', 'set_staff_role', 'staff_find_users')),
  'the staff functions are security definer with an empty search_path');
select ok(
  has_function_privilege('authenticated', 'private.set_staff_role(text, text)', 'execute')
  and not has_function_privilege('anon', 'private.set_staff_role(text, text)', 'execute')
  and not has_function_privilege('service_role', 'private.set_staff_role(text, text)', 'execute')
  and not has_function_privilege('anon', 'private.staff_find_users(text, text, integer)', 'execute')
  and not has_function_privilege('anon', 'private.staff_members()', 'execute'),
  'only authenticated (checked inside) may call them through an API role');
select has_index('public', 'users', 'users_email_lower_prefix_idx', 'email prefix index');
-- The range the lookup uses is served by the index (seq scans off: the test table is tiny).
create function pg_temp.plan_of(query text) returns text language plpgsql as $f$
declare
  line text;
  plan text := '';
begin
  for line in execute 'explain ' || query loop plan := plan || line || ' '; end loop;
  return plan;
end;
$f$;
set local enable_seqscan = off;
select ok(
  pg_temp.plan_of($$ select u.id from public.users u
    where lower(u.email) operator(pg_catalog.~>=~) 'ada' and lower(u.email) operator(pg_catalog.~<~) ('ada' || chr(1114111)) $$)
    ~ 'users_email_lower_prefix_idx',
  'the email prefix range is an index scan on lower(email) text_pattern_ops');
reset enable_seqscan;

-- Fixtures: one admin only (the others demoted inside this transaction), a support, two users.
update public.users set role = 'user' where role = 'admin';
select tests.create_user('stfadmin', 'admin') as admin \gset
select tests.create_user('stfsupport', 'support') as support \gset
select tests.create_user('stfuser') as plain \gset
select tests.create_user('stfother') as other \gset
update public.users set email = 'Ada.Lovelace-' || :'plain' || '@Example.invalid', first_name = 'Ada', last_name = 'Lovelace'
 where id = :'plain';
insert into public.projects (user_id, name) values (:'plain', 'P1'), (:'plain', 'P2');

-- ---- admin -------------------------------------------------------------------------------
select tests.authenticate_as(:'admin');
select ok((select count(*) >= 2 from private.staff_members()), 'admin lists staff');
select is((select role from private.staff_members() where user_id = :'support'), 'support', 'with their role');
select results_eq(
  format($$ select role, previous_role from private.set_staff_role(%L, 'support') $$, :'other'),
  $$ values ('support'::text, 'user'::text) $$, 'admin grants support');
select results_eq(
  format($$ select role, previous_role from private.set_staff_role(%L, 'user') $$, :'other'),
  $$ values ('user'::text, 'support'::text) $$, 'admin revokes it');
select throws_ok($$ select * from private.set_staff_role('user_doesNotExist123', 'support') $$,
  'P0001', 'no such user', 'an unknown user is a 404');
select throws_ok(format($$ select * from private.set_staff_role(%L, 'owner') $$, :'other'),
  'P0001', 'role must be user, support or admin', 'an unknown role is refused');
select throws_ok(format($$ select * from private.set_staff_role(%L, 'user') $$, :'admin'),
  'P0001', 'the last admin cannot be demoted: grant admin to someone else first', 'the last admin cannot demote themselves');
select lives_ok(format($$ select * from private.set_staff_role(%L, 'admin') $$, :'other'), 'a second admin is granted');
select lives_ok(format($$ select * from private.set_staff_role(%L, 'user') $$, :'admin'), 'then the first may step down');
select tests.clear_authentication();
select results_eq(
  format($$ select actor, actor_kind, details ->> 'from', details ->> 'to' from audit.log
             where action = 'user.role.changed' and target_id = %L order by id $$, :'other'),
  format($$ values (%L, 'staff', 'user', 'support'), (%L, 'staff', 'support', 'user'), (%L, 'staff', 'user', 'admin') $$,
         :'admin', :'admin', :'admin'),
  'every change is audited with the admin as actor');
select ok(exists (select 1 from audit.log where action = 'staff.listed' and actor = :'admin'), 'listing staff is audited');

-- ---- support -----------------------------------------------------------------------------
select tests.authenticate_as(:'support');
select throws_ok($$ select * from private.staff_members() $$, 'P0001', 'only admins manage staff', 'support cannot list staff');
select throws_ok(format($$ select * from private.set_staff_role(%L, 'admin') $$, :'support'),
  'P0001', 'only admins manage staff', 'support cannot grant (not even to themselves)');
select results_eq(
  format($$ select user_id, projects from private.staff_find_users('email', %L) $$, upper('ada.lovelace-' || :'plain')),
  format($$ values (%L::text, 2::bigint) $$, :'plain'), 'support finds a user by email prefix, case-insensitively, with counts');
select results_eq(
  format($$ select user_id from private.staff_find_users('id', %L) $$, :'plain'),
  format($$ values (%L::text) $$, :'plain'), 'by Clerk id');
select ok((select count(*) >= 1 from private.staff_find_users('name', 'ADA LOVE')), 'by name prefix');
select is_empty($$ select * from private.staff_find_users('email', 'a%') $$, 'LIKE wildcards are literal, not patterns');
select throws_ok($$ select * from private.staff_find_users('phone', 'x1') $$, 'P0001', 'by must be email, id or name', 'unknown search kind');
select throws_ok($$ select * from private.staff_find_users('email', 'a') $$, 'P0001', 'the search needs 2 to 320 characters', 'too short');
select tests.clear_authentication();
select ok(
  (select bool_and(not (details::text ilike '%lovelace%') and details ->> 'by' is not null)
     from audit.log where action = 'staff.users.searched' and actor = :'support'),
  'each lookup is audited as a staff read, without the text searched for');

-- ---- user and anon -----------------------------------------------------------------------
select tests.authenticate_as(:'plain');
select throws_ok($$ select * from private.staff_find_users('email', 'ad') $$, 'P0001', 'staff only', 'a user cannot look up');
select throws_ok(format($$ select * from private.set_staff_role(%L, 'admin') $$, :'plain'),
  'P0001', 'only admins manage staff', 'a user cannot promote themselves');
select tests.authenticate_as_anon();
select throws_ok($$ select * from private.staff_members() $$, '42501', null, 'anon may not call them at all');

-- ---- the operator (database session, the bootstrap command) ----------------------------
select tests.clear_authentication();
select set_config('request.jwt.claims', '{"actor":"operator:tester"}', true);
select lives_ok($$ select * from private.set_staff_role('user_stfBootstrapNew1', 'admin') $$,
  'the operator grants admin to a user who never signed in (the row is created)');
select results_eq(
  $$ select actor, actor_kind, details ->> 'to' from audit.log where action = 'user.role.changed' and target_id = 'user_stfBootstrapNew1' $$,
  $$ values ('operator:tester'::text, 'database'::text, 'admin'::text) $$, 'audited with the operator named');

select * from finish();
rollback;
