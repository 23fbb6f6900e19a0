-- private.clerk_webhook_inbox and private.clerk_user_tombstones: automation-only tables. RLS is
-- enabled with no policy at all, anon and authenticated hold no privilege (so every verb is
-- refused), the service role reads and writes; the functions that write them are not callable by
-- the API roles; the tombstone trigger on public.users is in place.
begin;
set search_path = public, extensions, tests;

select plan(35);

-- ---------------------------------------------------------------------------------------------
-- Structure
-- ---------------------------------------------------------------------------------------------
select has_table('private', 'clerk_webhook_inbox', 'private.clerk_webhook_inbox exists');
select has_table('private', 'clerk_user_tombstones', 'private.clerk_user_tombstones exists');
select hasnt_table('public', 'clerk_webhook_inbox', 'the inbox is not in the exposed schema');

select col_is_pk('private', 'clerk_webhook_inbox', 'svix_id', 'inbox is keyed on svix_id');
select col_is_pk('private', 'clerk_user_tombstones', 'user_id', 'tombstones are keyed on the Clerk user id');
select columns_are('private', 'clerk_webhook_inbox',
  array['svix_id', 'event_type', 'clerk_user_id', 'event_at', 'received_at', 'outcome',
        'session_started_at', 'session_active_at'],
  'inbox columns: ids, type, timestamps, outcome, a pending session''s two times; no payload');
select columns_are('private', 'clerk_user_tombstones', array['user_id', 'deleted_at', 'recorded_at'],
  'tombstone columns: the Clerk id and times only');
select has_index('private', 'clerk_webhook_inbox', 'clerk_webhook_inbox_received_at_idx', array['received_at'],
  'inbox is indexed on received_at (retention pruning)');

select ok(
  (select bool_and(c.relrowsecurity) from pg_class c
    where c.oid in ('private.clerk_webhook_inbox'::regclass, 'private.clerk_user_tombstones'::regclass)),
  'row level security is enabled on both tables'
);
select is_empty(
  $$ select polname from pg_policy
      where polrelid in ('private.clerk_webhook_inbox'::regclass, 'private.clerk_user_tombstones'::regclass) $$,
  'no policy on either table: nothing for authenticated even if a grant slipped in'
);

select table_privs_are('private', 'clerk_webhook_inbox', 'anon', array[]::text[], 'anon: no privilege on the inbox');
select table_privs_are('private', 'clerk_webhook_inbox', 'authenticated', array[]::text[],
  'authenticated: no privilege on the inbox');
select table_privs_are('private', 'clerk_user_tombstones', 'anon', array[]::text[], 'anon: no privilege on tombstones');
select table_privs_are('private', 'clerk_user_tombstones', 'authenticated', array[]::text[],
  'authenticated: no privilege on tombstones');
select table_privs_are('private', 'clerk_webhook_inbox', 'service_role',
  array['SELECT', 'INSERT', 'UPDATE', 'DELETE'], 'service_role: reads, writes and prunes the inbox');
select table_privs_are('private', 'clerk_user_tombstones', 'service_role',
  array['SELECT', 'INSERT', 'DELETE'], 'service_role: reads and writes tombstones (no update)');

select has_trigger('public', 'users', 'users_refuse_tombstoned', 'public.users refuses tombstoned ids on insert');

select ok(
  not has_function_privilege('authenticated', 'private.apply_clerk_event(text, text, text, timestamptz, text, text, text, text, timestamptz, timestamptz, timestamptz, timestamptz)', 'execute')
    and not has_function_privilege('anon', 'private.apply_clerk_event(text, text, text, timestamptz, text, text, text, text, timestamptz, timestamptz, timestamptz, timestamptz)', 'execute'),
  'apply_clerk_event is not callable by anon or authenticated'
);
select ok(
  not has_function_privilege('authenticated', 'private.apply_clerk_user_deleted(text, timestamptz)', 'execute')
    and not has_function_privilege('anon', 'private.apply_clerk_user_deleted(text, timestamptz)', 'execute'),
  'apply_clerk_user_deleted is not callable by anon or authenticated'
);
select ok(
  has_function_privilege('service_role', 'private.apply_clerk_event(text, text, text, timestamptz, text, text, text, text, timestamptz, timestamptz, timestamptz, timestamptz)', 'execute')
    and has_function_privilege('service_role', 'private.apply_clerk_user_deleted(text, timestamptz)', 'execute'),
  'service_role calls both functions'
);
select is_definer('private', 'refuse_tombstoned_user', array[]::name[],
  'the tombstone trigger is security definer (API inserts cannot read tombstones themselves)');
select isnt_definer('private', 'apply_clerk_event',
  array['text', 'text', 'text', 'timestamp with time zone', 'text', 'text', 'text', 'text',
        'timestamp with time zone', 'timestamp with time zone', 'timestamp with time zone', 'timestamp with time zone']::name[],
  'apply_clerk_event runs with the caller''s rights');
select isnt_definer('private', 'apply_clerk_user_deleted', array['text', 'timestamp with time zone']::name[],
  'apply_clerk_user_deleted runs with the caller''s rights');

-- ---------------------------------------------------------------------------------------------
-- Fixtures (as postgres)
-- ---------------------------------------------------------------------------------------------
select tests.create_user('whtab') as member \gset
select tests.random_id('user_whgone') as gone \gset
select tests.random_id('msg_tab') as msg \gset
insert into private.clerk_user_tombstones (user_id, deleted_at) values (:'gone', now());
insert into private.clerk_webhook_inbox (svix_id, event_type, clerk_user_id, outcome)
values (:'msg', 'user.updated', :'member', 'applied');

-- ---------------------------------------------------------------------------------------------
-- authenticated (a signed-in user, even the one concerned): every verb refused
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'member');
select throws_ok($$ select * from private.clerk_webhook_inbox $$, '42501', null,
  'authenticated: select on the inbox is refused');
select throws_ok(format($$ insert into private.clerk_webhook_inbox (svix_id, event_type, outcome)
                          values (%L, 'user.created', 'applied') $$, :'msg' || 'x'), '42501', null,
  'authenticated: insert into the inbox is refused');
select throws_ok(format($$ delete from private.clerk_webhook_inbox where svix_id = %L $$, :'msg'), '42501', null,
  'authenticated: delete from the inbox is refused (cannot un-record a delivery)');
select throws_ok($$ select * from private.clerk_user_tombstones $$, '42501', null,
  'authenticated: select on tombstones is refused');
select throws_ok(format($$ delete from private.clerk_user_tombstones where user_id = %L $$, :'gone'), '42501', null,
  'authenticated: delete of a tombstone is refused (cannot resurrect)');
select throws_ok(format($$ select private.apply_clerk_event(%L, 'user.deleted', %L) $$, :'msg' || 'y', :'member'),
  '42501', null, 'authenticated: apply_clerk_event is refused');

-- ---------------------------------------------------------------------------------------------
-- anon: refused
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok($$ select * from private.clerk_webhook_inbox $$, '42501', null, 'anon: select on the inbox is refused');
select throws_ok($$ select * from private.clerk_user_tombstones $$, '42501', null, 'anon: select on tombstones is refused');

-- ---------------------------------------------------------------------------------------------
-- service role: reads and writes
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select results_eq(
  format($$ select event_type, outcome from private.clerk_webhook_inbox where svix_id = %L $$, :'msg'),
  $$ values ('user.updated', 'applied') $$,
  'service_role: reads the inbox'
);
select ok(
  exists (select 1 from private.clerk_user_tombstones where user_id = :'gone'),
  'service_role: reads tombstones'
);
select throws_ok(
  format($$ insert into private.clerk_webhook_inbox (svix_id, event_type, outcome) values (%L, 'user.created', 'unheard_of') $$,
         :'msg' || 'z'),
  '23514', null,
  'an unknown outcome is refused by the check constraint'
);
select throws_ok(
  $$ insert into private.clerk_webhook_inbox (svix_id, event_type, outcome) values ('msg with spaces', 'user.created', 'applied') $$,
  '23514', null,
  'a svix id with spaces is refused by the check constraint'
);
select tests.clear_authentication();

select * from finish();
rollback;
