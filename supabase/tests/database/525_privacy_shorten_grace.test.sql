-- Staff shorten the grace period of an existing erasure (privacy.shorten_grace): staff only, with
-- a reason, never longer, not once started; a scheduled erasure moves to received_at + the new
-- grace (not before now); a support request awaiting approval keeps waiting; audited without the
-- reason text.
begin;
set search_path = public, extensions, tests;

select plan(14);

select tests.create_user('gracesubj') as subj \gset
select tests.create_user('gracesubj2') as subj2 \gset
select tests.create_user('gracesupport', 'support') as support \gset
select tests.create_user('gracestranger') as stranger \gset

-- The subject's own erasure: scheduled at once, 7 days of grace.
select tests.authenticate_as(:'subj');
select id as own from privacy.create_request('erasure') \gset
-- Support's erasure of another person: waits for an admin's approval.
select tests.authenticate_as(:'support');
select id as filed from privacy.create_request('erasure', :'subj2', 'T-42') \gset

select tests.authenticate_as(:'subj');
select throws_ok(format($$ select privacy.shorten_grace(%L, interval '1 hour', 'hurry') $$, :'own'),
  'P0001', 'only staff can shorten the grace period', 'the subject cannot shorten it: 403');
select tests.authenticate_as(:'stranger');
select throws_ok(format($$ select privacy.shorten_grace(%L, interval '1 hour', 'hurry') $$, :'own'),
  'P0001', 'request not found', 'a stranger does not even see it: 404');

select tests.authenticate_as(:'support');
select throws_ok(format($$ select privacy.shorten_grace(%L, interval '1 hour', '  ') $$, :'own'),
  'P0001', 'a reason (1 to 500 characters) is required to shorten the grace period', 'no reason: 422');
select throws_ok(format($$ select privacy.shorten_grace(%L, interval '7 days', 'same') $$, :'own'),
  'P0001', 'the new grace period must be at least 0 and shorter than 7 days', 'not shorter: 422');
select throws_ok(format($$ select privacy.shorten_grace(%L, interval '30 days', 'longer') $$, :'own'),
  'P0001', 'the new grace period must be at least 0 and shorter than 7 days', 'never longer: 422');
select throws_ok(format($$ select privacy.shorten_grace(%L, interval '-1 hour', 'negative') $$, :'own'),
  'P0001', 'the new grace period must be at least 0 and shorter than 7 days', 'never negative: 422');

select results_eq(
  format($$ select status, grace_period, grace_reason, scheduled_for = received_at + interval '2 hours'
              from privacy.shorten_grace(%L, interval '2 hours', ' subject asked, ticket T-41 ') $$, :'own'),
  $$ values ('scheduled'::text, interval '2 hours', 'subject asked, ticket T-41'::text, true) $$,
  'a scheduled erasure: shorter grace, trimmed reason, moved to received_at + the new grace');
select results_eq(
  format($$ select scheduled_for >= now() from privacy.shorten_grace(%L, interval '0', 'now') $$, :'own'),
  $$ values (true) $$,
  'grace 0 schedules it for now at the earliest, never in the past');

select results_eq(
  format($$ select status, grace_period, scheduled_for from privacy.shorten_grace(%L, interval '1 day', 'T-42') $$,
         :'filed'),
  $$ values ('received'::text, interval '1 day', null::timestamptz) $$,
  'awaiting approval: the grace shortens, the erasure still waits for an admin');

select results_eq(
  format($$ select count(*)::int, bool_and(details ? 'grace_seconds'), bool_and(not details::text like '%%T-4%%')
              from audit.log where action = 'dsar.erasure.grace_shortened' and target_id = %L $$, :'own'),
  $$ values (2, true, true) $$,
  'each change audited with the grace in seconds, never the reason text');

-- Not an erasure, or no longer open.
select id as export_id from privacy.create_request('export', :'subj2', 'T-43') \gset
select throws_ok(format($$ select privacy.shorten_grace(%L, interval '1 hour', 'x') $$, :'export_id'),
  'P0001', 'only an erasure has a grace period', 'an export: 409');
select lives_ok(format($$ select privacy.cancel_request(%L) $$, :'own'), 'cancel the subject''s erasure');
select throws_ok(format($$ select privacy.shorten_grace(%L, interval '0', 'x') $$, :'own'),
  'P0001', 'the erasure is cancelled and its grace period can no longer change', 'cancelled: 409');

select tests.authenticate_as_anon();
select throws_ok(format($$ select privacy.shorten_grace(%L, interval '0', 'x') $$, :'filed'),
  '42501', null, 'anon cannot call it at all');

select * from finish();
rollback;
