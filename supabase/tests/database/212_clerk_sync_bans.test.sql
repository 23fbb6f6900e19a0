-- The Clerk sync's per-type handlers behind private.apply_clerk_delivery, called as the webhook
-- calls them (service role): identifiers and flags stored, bans ordered by Clerk's updated_at,
-- pending sessions applied when the user appears, impersonation audited and not counted, warning
-- counters exactly once. Then the Data API path (role authenticated + request.jwt.claims, as
-- PostgREST with Clerk third-party auth runs it): a banned or locked caller reads nothing and
-- writes nothing, the pre-request hook and the Edge Functions' check refuse it, staff see the
-- flags, an unban restores access.
begin;
set search_path = public, extensions, tests;

select plan(40);

select tests.random_id('user_bn') as banned \gset
select tests.random_id('user_pd') as pending \gset
select tests.random_id('user_im') as imp \gset
select tests.random_id('user_lk') as lockd \gset
select tests.random_id('msg_bn') as m \gset
select tests.create_user('bnstaff', 'support') as staff \gset

-- ---------------------------------------------------------------------------------------------
-- Structure and grants
-- ---------------------------------------------------------------------------------------------
select ok(
  not has_function_privilege('authenticated', 'private.apply_clerk_delivery(text, text, text, timestamptz, jsonb, text[])', 'execute')
    and not has_function_privilege('anon', 'private.apply_clerk_delivery(text, text, text, timestamptz, jsonb, text[])', 'execute')
    and has_function_privilege('service_role', 'private.apply_clerk_delivery(text, text, text, timestamptz, jsonb, text[])', 'execute'),
  'apply_clerk_delivery: service_role only');
select ok(
  not has_function_privilege('authenticated', 'private.on_clerk_user_upsert(text, jsonb)', 'execute')
    and not has_function_privilege('authenticated', 'private.on_clerk_session(text, text, text, jsonb)', 'execute')
    and not has_function_privilege('authenticated', 'private.count_clerk_sync_warnings(text[])', 'execute'),
  'the handlers are not callable by authenticated');
select ok(
  has_function_privilege('authenticated', 'private.refuse_suspended_caller()', 'execute')
    and has_function_privilege('authenticated', 'private.data_api_pre_request()', 'execute')
    and not has_function_privilege('anon', 'private.caller_is_suspended()', 'execute'),
  'the suspension checks run as authenticated (PostgREST calls the pre-request hook as the request role)');
select ok(not has_table_privilege('service_role', 'ops.clerk_sync_warnings', 'insert')
            and not has_table_privilege('authenticated', 'ops.clerk_sync_warnings', 'select'),
  'warning counters: written only through count_clerk_sync_warnings');
select is_empty($$ select * from privacy.data_map_problems() $$, 'the data map classifies every new column');

-- ---------------------------------------------------------------------------------------------
-- Bans: order by Clerk's updated_at
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is(
  private.apply_clerk_delivery(:'m' || '_1', 'user.updated', :'banned', '2026-06-01 10:00:02+00',
    jsonb_build_object('email', 'ban@example.invalid', 'email_verified', false, 'username', 'mallory',
                       'phone_number', '+15555550199', 'external_id', 'crm-9', 'has_image', false,
                       'banned', true, 'locked', false, 'clerk_updated_at', '2026-06-01 10:00:02+00')),
  'applied', 'a ban arriving before the create creates the row, banned');
select is(
  private.apply_clerk_delivery(:'m' || '_2', 'user.created', :'banned', '2026-06-01 10:00:00+00',
    jsonb_build_object('email', 'ban@example.invalid', 'banned', false, 'clerk_updated_at', '2026-06-01 10:00:00+00')),
  'stale', 'the late user.created (older updated_at) is stale');
select is(
  private.apply_clerk_delivery(:'m' || '_3', 'user.updated', :'banned', '2026-06-01 10:00:01+00',
    jsonb_build_object('banned', false, 'clerk_updated_at', '2026-06-01 10:00:01+00')),
  'stale', 'an unban older than the ban is stale');
select results_eq(
  format($$ select banned, username, phone_number, external_id, email_verified, has_image from users where id = %L $$, :'banned'),
  $$ values (true, 'mallory'::text, '+15555550199'::text, 'crm-9'::text, false, false) $$,
  'still banned; identifiers, verification and has_image stored');
select throws_ok(
  format($$ select private.apply_clerk_delivery(%L, 'user.updated', %L, null,
                   '{"phone_number": "555-0199", "clerk_updated_at": "2026-06-01 10:00:09+00"}') $$, :'m' || '_x', :'banned'),
  '23514', null, 'a phone number that is not E.164 is refused by the column (the receiver drops it with a warning first)');

-- ---------------------------------------------------------------------------------------------
-- Warnings: counted once per delivery
-- ---------------------------------------------------------------------------------------------
select tests.clear_authentication();
select coalesce(sum(count), 0) as warned_before from ops.clerk_sync_warnings where kind = 'primary_email_missing' \gset
select tests.authenticate_as_service_role();
select is(
  private.apply_clerk_delivery(:'m' || '_w', 'user.updated', :'banned', null,
    jsonb_build_object('banned', true, 'clerk_updated_at', '2026-06-01 10:00:03+00'), array['primary_email_missing']),
  'applied', 'a delivery with a warning is applied');
select is(
  private.apply_clerk_delivery(:'m' || '_w', 'user.updated', :'banned', null,
    jsonb_build_object('banned', true, 'clerk_updated_at', '2026-06-01 10:00:03+00'), array['primary_email_missing']),
  'duplicate', 'its retry is a duplicate');
select tests.clear_authentication();
select is(
  (select sum(count)::int from ops.clerk_sync_warnings where kind = 'primary_email_missing'),
  :warned_before::int + 1, 'the warning is counted exactly once');

-- ---------------------------------------------------------------------------------------------
-- Pending sessions; impersonation
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is(
  private.apply_clerk_delivery(:'m' || '_p1', 'session.created', :'pending', null,
    '{"session_id": "sess_p1", "started_at": "2026-06-01 09:00:00+00", "last_active_at": "2026-06-01 09:05:00+00"}'),
  'pending', 'a session before its user: pending');
select is(
  private.apply_clerk_delivery(:'m' || '_p2', 'session.ended', :'pending', null,
    '{"session_id": "sess_p1", "last_active_at": "2026-06-01 09:30:00+00"}'),
  'pending', 'its end too');
select results_eq(
  format($$ select outcome, session_started_at from private.clerk_webhook_inbox where svix_id = %L $$, :'m' || '_p1'),
  $$ values ('pending'::text, '2026-06-01 09:00:00+00'::timestamptz) $$,
  'the inbox row keeps the session''s times');
select is(
  private.apply_clerk_delivery(:'m' || '_p3', 'user.created', :'pending', null,
    '{"username": "late", "clerk_updated_at": "2026-06-01 08:59:00+00"}'),
  'applied', 'the user appears');
select results_eq(
  format($$ select last_sign_in_at, last_active_at from users where id = %L $$, :'pending'),
  $$ values ('2026-06-01 09:00:00+00'::timestamptz, '2026-06-01 09:30:00+00'::timestamptz) $$,
  'and gets the pending sign-in and activity times');
select is_empty(
  format($$ select 1 from private.clerk_webhook_inbox where clerk_user_id = %L and outcome = 'pending' $$, :'pending'),
  'no delivery of that user is pending any more');

select is(
  private.apply_clerk_delivery(:'m' || '_i0', 'user.created', :'imp', null,
    '{"clerk_updated_at": "2026-06-01 08:00:00+00", "last_sign_in_at": "2026-06-01 08:00:00+00", "last_active_at": "2026-06-01 08:00:00+00"}'),
  'applied', 'a user to impersonate');
select tests.clear_authentication();
update users set inactive_since = '2026-06-01 08:30:00+00' where id = :'imp';
select tests.authenticate_as_service_role();
-- As the receiver names itself (_shared/db.ts queryAsServiceRole).
select set_config('request.jwt.claims', '{"role": "service_role", "actor": "clerk-webhooks"}', true);
select is(
  private.apply_clerk_delivery(:'m' || '_i1', 'session.created', :'imp', null,
    '{"session_id": "sess_i1", "started_at": "2026-06-01 12:00:00+00", "last_active_at": "2026-06-01 12:00:00+00", "impersonated": true, "actor_id": "user_support1"}'),
  'impersonated', 'an impersonated session: impersonated');
select tests.clear_authentication();
select results_eq(
  format($$ select last_sign_in_at, last_active_at, inactive_since from users where id = %L $$, :'imp'),
  $$ values ('2026-06-01 08:00:00+00'::timestamptz, '2026-06-01 08:00:00+00'::timestamptz, '2026-06-01 08:30:00+00'::timestamptz) $$,
  'it moves no activity and leaves inactive_since');
select results_eq(
  format($$ select actor, details ->> 'impersonator_id', details ->> 'session_id' from audit.log
             where action = 'clerk.session.impersonated' and target_id = %L $$, :'imp'),
  $$ values ('clerk-webhooks'::text, 'user_support1'::text, 'sess_i1'::text) $$,
  'the audit log names the impersonator (ids only)');

-- ---------------------------------------------------------------------------------------------
-- The Data API path: a banned caller
-- ---------------------------------------------------------------------------------------------
insert into projects (user_id, name) values (:'banned', 'Before the ban') returning id as banned_project \gset

select tests.authenticate_as(:'banned');
select ok(private.caller_is_suspended(), 'the banned caller is suspended');
select is_empty($$ select * from users $$, 'banned: GET /rest/v1/users returns nothing, not even the own row');
select is_empty($$ select * from projects $$, 'banned: GET /rest/v1/projects returns nothing');
select throws_ok($$ insert into projects (user_id, name) values ((select auth.jwt()) ->> 'sub', 'After') $$,
  '42501', null, 'banned: POST /rest/v1/projects is refused');
select is_empty($$ update users set display_name = 'Mallory' where id = (select auth.jwt()) ->> 'sub' returning 1 $$,
  'banned: PATCH /rest/v1/users changes nothing');
select is_empty(format($$ update projects set name = 'Renamed' where id = %L returning 1 $$, :'banned_project'),
  'banned: PATCH /rest/v1/projects changes nothing');
select throws_ok($$ select private.data_api_pre_request() $$, 'PT403', 'this account is suspended',
  'the PostgREST pre-request hook answers 403');
select throws_ok($$ select private.refuse_suspended_caller() $$, 'P0001', 'this account is suspended',
  'the Edge Functions'' context check raises P0001 (hint http:403)');

select tests.authenticate_as(:'staff');
select results_eq(format($$ select banned, locked from users where id = %L $$, :'banned'),
  $$ values (true, false) $$, 'staff see the flags');
select lives_ok($$ select private.refuse_suspended_caller() $$, 'staff (not suspended) pass the check');

-- Unban (newer): access restored at the next statement, nothing cached.
select tests.authenticate_as_service_role();
select is(
  private.apply_clerk_delivery(:'m' || '_4', 'user.updated', :'banned', null,
    jsonb_build_object('banned', false, 'clerk_updated_at', '2026-06-01 10:00:05+00')),
  'applied', 'a newer unban is applied');
select tests.authenticate_as(:'banned');
select isnt_empty($$ select * from projects $$, 'unbanned: the projects are visible again');
select lives_ok($$ select private.data_api_pre_request() $$, 'unbanned: the pre-request hook passes');

-- ---------------------------------------------------------------------------------------------
-- Locks: until the lockout ends
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select private.apply_clerk_delivery(:'m' || '_l1', 'user.created', :'lockd', null,
  jsonb_build_object('locked', true, 'locked_until', now() + interval '1 hour', 'clerk_updated_at', '2026-06-01 10:00:00+00'));
select tests.authenticate_as(:'lockd');
select throws_ok($$ select private.refuse_suspended_caller() $$, 'P0001', null, 'locked: refused while the lockout lasts');
select tests.authenticate_as_service_role();
select private.apply_clerk_delivery(:'m' || '_l2', 'user.updated', :'lockd', null,
  jsonb_build_object('locked', true, 'locked_until', now() - interval '1 second', 'clerk_updated_at', '2026-06-01 10:00:01+00'));
select tests.authenticate_as(:'lockd');
select lives_ok($$ select private.refuse_suspended_caller() $$, 'locked: passes once the lockout is over (Clerk sends no event then)');
select tests.authenticate_as_service_role();
select private.apply_clerk_delivery(:'m' || '_l3', 'user.updated', :'lockd', null,
  jsonb_build_object('locked', true, 'clerk_updated_at', '2026-06-01 10:00:02+00'));
select tests.authenticate_as(:'lockd');
select is_empty($$ select * from users $$, 'locked without an end: refused until Clerk unlocks');
select tests.clear_authentication();
select throws_ok(format($$ update users set locked_until = now() where id = %L $$, :'banned'),
  '23514', null, 'locked_until only with locked');

select * from finish();
rollback;
