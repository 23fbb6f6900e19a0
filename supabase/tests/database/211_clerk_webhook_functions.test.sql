-- private.apply_clerk_event and private.apply_clerk_user_deleted, called as the webhook calls them
-- (service role): exactly once per svix id, upserts guarded by Clerk's updated_at, a just-in-time
-- row completed without touching what this backend and the user own, session timestamps only
-- forward, deletion cascading and leaving a tombstone that nobody (webhook, API, service role)
-- can insert past.
begin;
set search_path = public, extensions, tests;

select plan(37);

-- ---------------------------------------------------------------------------------------------
-- Fixtures: random ids; a just-in-time row with user-owned fields and a staff role.
-- ---------------------------------------------------------------------------------------------
select tests.random_id('user_whfn') as u \gset
select tests.random_id('user_whjit') as jit \gset
select tests.random_id('user_whnone') as nobody \gset
select tests.random_id('msg_fn') as m \gset

select tests.authenticate_as(:'jit', '{"email": "token@example.invalid"}');
insert into users (id, email) values (:'jit', 'token@example.invalid');
update users set display_name = 'Chosen', preferences = '{"theme":"dark"}' where id = :'jit';
select tests.clear_authentication();
update users set role = 'support' where id = :'jit';

select tests.authenticate_as_service_role();

-- ---------------------------------------------------------------------------------------------
-- Exactly once per svix id
-- ---------------------------------------------------------------------------------------------
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_1', p_event_type => 'user.created', p_user_id => :'u',
    p_event_at => '2026-01-01 00:00:10+00', p_email => 'first@example.invalid', p_first_name => 'First',
    p_clerk_created_at => '2026-01-01 00:00:00+00', p_clerk_updated_at => '2026-01-01 00:00:10+00'),
  'applied', 'user.created: applied');
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_1', p_event_type => 'user.created', p_user_id => :'u',
    p_email => 'changed@example.invalid', p_clerk_updated_at => '2026-01-01 00:00:50+00'),
  'duplicate', 'the same svix id again: duplicate, whatever it carries');
select results_eq(
  format($$ select email, first_name, clerk_updated_at from users where id = %L $$, :'u'),
  $$ values ('first@example.invalid'::text, 'First'::text, '2026-01-01 00:00:10+00'::timestamptz) $$,
  'the duplicate changed nothing');
select results_eq(
  format($$ select event_type, clerk_user_id, event_at, outcome from private.clerk_webhook_inbox where svix_id = %L $$,
         :'m' || '_1'),
  format($$ values ('user.created'::text, %L::text, '2026-01-01 00:00:10+00'::timestamptz, 'applied'::text) $$, :'u'),
  'one inbox row: type, user, event time, outcome');

-- ---------------------------------------------------------------------------------------------
-- Order guard on Clerk's updated_at
-- ---------------------------------------------------------------------------------------------
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_2', p_event_type => 'user.updated', p_user_id => :'u',
    p_email => 'second@example.invalid', p_first_name => 'Second', p_clerk_updated_at => '2026-01-01 00:00:30+00'),
  'applied', 'a newer user.updated: applied');
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_3', p_event_type => 'user.updated', p_user_id => :'u',
    p_email => 'older@example.invalid', p_first_name => 'Older', p_clerk_updated_at => '2026-01-01 00:00:20+00'),
  'stale', 'an older user.updated arriving late: stale');
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_4', p_event_type => 'user.updated', p_user_id => :'u',
    p_email => 'same@example.invalid', p_clerk_updated_at => '2026-01-01 00:00:30+00'),
  'stale', 'an update with the same updated_at: stale (not newer)');
select results_eq(
  format($$ select email, first_name, clerk_created_at, clerk_updated_at from users where id = %L $$, :'u'),
  $$ values ('second@example.invalid'::text, 'Second'::text, '2026-01-01 00:00:00+00'::timestamptz,
             '2026-01-01 00:00:30+00'::timestamptz) $$,
  'the newest state stays; clerk_created_at is kept when an update does not carry it');
select is(
  (select outcome from private.clerk_webhook_inbox where svix_id = :'m' || '_3'),
  'stale', 'the stale delivery is recorded as stale');

-- ---------------------------------------------------------------------------------------------
-- A just-in-time row is completed, not duplicated; role, display_name, preferences untouched
-- ---------------------------------------------------------------------------------------------
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_5', p_event_type => 'user.created', p_user_id => :'jit',
    p_email => 'clerk@example.invalid', p_first_name => 'Grace', p_last_name => 'Hopper',
    p_image_url => 'https://img.clerk.com/g', p_clerk_created_at => '2026-01-01 00:00:00+00',
    p_clerk_updated_at => '2026-01-01 00:00:00+00'),
  'applied', 'user.created for a just-in-time row (clerk_updated_at null): applied');
select results_eq(
  format($$ select count(*)::int, min(email), min(first_name), min(role), min(display_name), min(preferences::text)
            from users where id = %L $$, :'jit'),
  $$ values (1, 'clerk@example.invalid'::text, 'Grace'::text, 'support'::text, 'Chosen'::text, '{"theme": "dark"}'::text) $$,
  'one row; Clerk fields filled; role, display_name and preferences kept');

-- ---------------------------------------------------------------------------------------------
-- Sessions: only forward; unknown users change nothing
-- ---------------------------------------------------------------------------------------------
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_6', p_event_type => 'session.created', p_user_id => :'u',
    p_last_sign_in_at => '2026-01-02 10:00:00+00', p_last_active_at => '2026-01-02 10:00:00+00'),
  'applied', 'session.created: applied');
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_7', p_event_type => 'session.ended', p_user_id => :'u',
    p_last_active_at => '2026-01-02 11:00:00+00'),
  'applied', 'session.ended with later activity: applied');
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_8', p_event_type => 'session.created', p_user_id => :'u',
    p_last_sign_in_at => '2026-01-02 09:00:00+00', p_last_active_at => '2026-01-02 09:00:00+00'),
  'stale', 'an older session.created: stale');
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_9', p_event_type => 'session.revoked', p_user_id => :'u'),
  'stale', 'a session event without activity time: nothing to move');
select results_eq(
  format($$ select last_sign_in_at, last_active_at from users where id = %L $$, :'u'),
  $$ values ('2026-01-02 10:00:00+00'::timestamptz, '2026-01-02 11:00:00+00'::timestamptz) $$,
  'last_sign_in_at and last_active_at never moved back');
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_10', p_event_type => 'session.created', p_user_id => :'nobody',
    p_last_sign_in_at => now(), p_last_active_at => now()),
  'pending', 'a session of a user not known yet: pending (kept for when the user appears)');
select is_empty(format($$ select 1 from users where id = %L $$, :'nobody'), 'and no row was created for it');

-- ---------------------------------------------------------------------------------------------
-- Unknown types; missing arguments
-- ---------------------------------------------------------------------------------------------
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_11', p_event_type => 'organization.created'),
  'ignored', 'an unknown type: ignored');
select is(
  (select outcome from private.clerk_webhook_inbox where svix_id = :'m' || '_11'),
  'ignored', 'and recorded as ignored');
select throws_ok(
  format($$ select private.apply_clerk_event(%L, 'user.updated', %L) $$, :'m' || '_12', :'u'),
  '22023', null, 'user.updated without updated_at is refused');
select throws_ok(
  format($$ select private.apply_clerk_event(%L, 'user.deleted') $$, :'m' || '_13'),
  '22023', null, 'user.deleted without a user id is refused');
select is_empty(
  format($$ select 1 from private.clerk_webhook_inbox where svix_id in (%L, %L) $$, :'m' || '_12', :'m' || '_13'),
  'refused calls recorded nothing');

-- ---------------------------------------------------------------------------------------------
-- Deletion: cascades, tombstone, nothing resurrects
-- ---------------------------------------------------------------------------------------------
select tests.clear_authentication();
insert into projects (user_id, name) values (:'u', 'Doomed') returning id as project \gset
insert into workspace_tabs (project_id, user_id, position, title, kind) values (:'project', :'u', 0, 'Tab', 'doc');
select tests.authenticate_as_service_role();

select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_14', p_event_type => 'user.deleted', p_user_id => :'u',
    p_event_at => '2026-01-03 00:00:00+00'),
  'applied', 'user.deleted: applied');
select is_empty(format($$ select 1 from users where id = %L $$, :'u'), 'the user row is gone');
select is_empty(format($$ select 1 from projects where user_id = %L union all
                          select 1 from workspace_tabs where user_id = %L $$, :'u', :'u'),
  'projects and tabs cascaded');
select results_eq(
  format($$ select deleted_at from private.clerk_user_tombstones where user_id = %L $$, :'u'),
  $$ values ('2026-01-03 00:00:00+00'::timestamptz) $$,
  'a tombstone carries the deletion time');
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_15', p_event_type => 'user.updated', p_user_id => :'u',
    p_email => 'back@example.invalid', p_clerk_updated_at => '2030-01-01 00:00:00+00'),
  'tombstoned', 'a late user.updated (newer than anything): tombstoned');
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_16', p_event_type => 'user.created', p_user_id => :'u',
    p_clerk_updated_at => '2026-01-01 00:00:00+00'),
  'tombstoned', 'a retried user.created: tombstoned');
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_17', p_event_type => 'session.created', p_user_id => :'u',
    p_last_sign_in_at => now()),
  'tombstoned', 'a session of the deleted user: tombstoned');
select is(
  private.apply_clerk_event(p_svix_id => :'m' || '_18', p_event_type => 'user.deleted', p_user_id => :'u'),
  'tombstoned', 'a second user.deleted (another svix id): nothing left to change');
select is_empty(format($$ select 1 from users where id = %L $$, :'u'), 'still no user row');

select throws_ok(
  format($$ insert into users (id) values (%L) $$, :'u'),
  'P0001', 'this user has been deleted', 'service role: a direct insert of a tombstoned id is refused');
select tests.authenticate_as(:'u');
select throws_ok(
  format($$ insert into users (id) values (%L) on conflict (id) do nothing $$, :'u'),
  'P0001', 'this user has been deleted', 'API just-in-time provisioning of a tombstoned id is refused (410)');
select tests.clear_authentication();
select throws_ok(
  format($$ insert into users (id) values (%L) $$, :'u'),
  'P0001', 'this user has been deleted', 'even the migration owner (postgres) cannot insert a tombstoned id');

-- The deletion function on its own (the DSAR erasure path will call it): idempotent.
select tests.create_user('whdsar') as dsar \gset
select tests.authenticate_as_service_role();
select is(private.apply_clerk_user_deleted(:'dsar', now()), true, 'apply_clerk_user_deleted: true when it changed something');
select is(private.apply_clerk_user_deleted(:'dsar', now()), false, 'and false when called again');
select tests.clear_authentication();

select * from finish();
rollback;
