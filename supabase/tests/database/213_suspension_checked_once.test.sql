-- The suspension check of the Edge Functions' context statement (private.refuse_suspended_caller)
-- runs once per transaction: it records the claims it cleared in the transaction-local
-- private.caller_cleared, and private.caller_is_suspended() (the restrictive *_not_suspended
-- policies) answers from that for the same claims only. Any other claims, a legacy
-- request.jwt.claim, or a transaction that never ran the check (the Data API, Realtime) are looked
-- up as before.
begin;
set search_path = public, extensions, tests;

select plan(9);

select tests.create_user('chk') as ok_user \gset
select tests.create_user('chkb') as bad_user \gset
update users set banned = true where id = :'bad_user';

select tests.authenticate_as(:'ok_user');
select is(nullif(current_setting('private.caller_cleared', true), ''), null,
  'a new request starts with nothing cleared');
select lives_ok($$ select private.refuse_suspended_caller() $$, 'the check passes a caller in good standing');
select is(current_setting('private.caller_cleared', true), current_setting('request.jwt.claims', true),
  'and records the claims it checked, for this transaction only');
select isnt_empty($$ select * from users where id = (select auth.jwt()) ->> 'sub' $$,
  'the caller reads the own row');

-- Banned after the check, within the same transaction: the check is not repeated (the ban takes
-- effect with the next transaction, as a READ COMMITTED statement started before it would).
select tests.clear_authentication();
update users set banned = true where id = :'ok_user';
select set_config('request.jwt.claims', (jsonb_build_object('sub', :'ok_user', 'role', 'authenticated'))::text, true),
       set_config('role', 'authenticated', true);
select ok(not private.caller_is_suspended(), 'the same claims are answered from the check, without a lookup');

-- Claims other than the cleared ones are looked up.
select set_config('request.jwt.claims', (jsonb_build_object('sub', :'bad_user', 'role', 'authenticated'))::text, true);
select ok(private.caller_is_suspended(), 'other claims (a banned user) are looked up: suspended');
select is_empty($$ select * from users $$, 'and the restrictive policy hides every row from them');
select set_config('request.jwt.claims', (jsonb_build_object('sub', :'ok_user', 'role', 'authenticated', 'x', 1))::text, true);
select ok(private.caller_is_suspended(), 'claims that differ in any byte are looked up (the ban is seen)');

-- auth.jwt() prefers a legacy request.jwt.claim when set: then the shortcut is never taken.
select set_config('request.jwt.claims', current_setting('private.caller_cleared'), true),
       set_config('request.jwt.claim', (jsonb_build_object('sub', :'bad_user', 'role', 'authenticated'))::text, true);
select ok(private.caller_is_suspended(), 'a legacy request.jwt.claim (another sub) is looked up');
select set_config('request.jwt.claim', '', true);

select * from finish();
rollback;
