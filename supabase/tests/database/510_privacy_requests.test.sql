-- Data-subject requests by actor (subject, stranger, support, admin, anon, service role): who can
-- create, see, cancel, approve and download what; the approval rules (support's erasures need an
-- admin who is not the requester); the grace period (staff shorten it only with a reason); the
-- deadline arithmetic (one calendar month in UTC, whatever the session time zone); the rate limit
-- counter; the overdue and export-purge jobs; every action audited.
begin;
set search_path = public, extensions, tests;

select plan(59);

select tests.create_user('dsarsubj') as subj \gset
select tests.create_user('dsarstranger') as stranger \gset
select tests.create_user('dsarsupport', 'support') as support \gset
select tests.create_user('dsaradmin', 'admin') as admin \gset
select tests.create_user('dsaradmin2', 'admin') as admin2 \gset
select tests.create_user('dsarother') as other \gset
insert into projects (user_id, name) values (:'subj', 'Mine');

-- ---------------------------------------------------------------------------------------------
-- Deadline arithmetic: received_at + one calendar month, in UTC
-- ---------------------------------------------------------------------------------------------
insert into privacy.requests (id, kind, subject_user_id, requested_as, requester_user_id, status, received_at)
values ('00000000-0000-4000-a000-00000000d501', 'export', :'other', 'subject', :'other', 'received', '2026-01-31 12:00:00+00'),
       ('00000000-0000-4000-a000-00000000d502', 'export', :'other', 'subject', :'other', 'received', '2028-01-31 23:30:00+00'),
       ('00000000-0000-4000-a000-00000000d503', 'export', :'other', 'subject', :'other', 'received', '2026-03-31 08:00:00+00'),
       ('00000000-0000-4000-a000-00000000d504', 'export', :'other', 'subject', :'other', 'received', '2026-12-15 10:00:00+00'),
       ('00000000-0000-4000-a000-00000000d505', 'export', :'other', 'subject', :'other', 'received', '2026-02-28 00:00:00+00');
select results_eq(
  $$ select to_char(due_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') from privacy.requests
      where id::text like '00000000-0000-4000-a000-00000000d50%' order by id $$,
  $$ values ('2026-02-28 12:00'), ('2028-02-29 23:30'), ('2026-04-30 08:00'), ('2027-01-15 10:00'), ('2026-03-28 00:00') $$,
  'due_at: 31 Jan -> 28 Feb, 31 Jan of a leap year -> 29 Feb, 31 Mar -> 30 Apr, across the year, 28 Feb -> 28 Mar');
set local timezone = 'Pacific/Kiritimati';
insert into privacy.requests (id, kind, subject_user_id, requested_as, requester_user_id, status, received_at)
values ('00000000-0000-4000-a000-00000000d506', 'export', :'other', 'subject', :'other', 'received', '2026-01-31 23:30:00+00');
select is(
  (select due_at from privacy.requests where id = '00000000-0000-4000-a000-00000000d506'),
  '2026-02-28 23:30:00+00'::timestamptz,
  'computed in UTC: 31 Jan 23:30 UTC (already 1 Feb in Kiritimati) is due 28 Feb 23:30 UTC');
reset timezone;
select throws_ok(
  $$ update privacy.requests set due_at = now() where id = '00000000-0000-4000-a000-00000000d501' $$,
  '428C9', null, 'due_at is generated: it cannot be set');
delete from privacy.requests where subject_user_id = :'other';

-- ---------------------------------------------------------------------------------------------
-- Subject
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'subj');
select results_eq(
  $$ select kind, requested_as, status, requester_user_id = subject_user_id from privacy.create_request('export') $$,
  $$ values ('export'::text, 'subject'::text, 'completed'::text, true) $$,
  'subject: an export of their own data is built at once');
select id as export_id from privacy.requests where kind = 'export' and subject_user_id = :'subj' \gset
select results_eq(
  format($$ select (row_counts ->> 'public.projects')::int, (row_counts ->> 'public.users')::int
              from privacy.requests where id = %L $$, :'export_id'),
  $$ values (1, 1) $$, 'with per-table counts');
select is(
  (select count(*)::int from privacy.export_download(:'export_id')), 1, 'subject: downloads their export');
select ok(
  (select document::json -> 'tables' -> 'public.projects' -> 0 ->> 'name' = 'Mine' from privacy.export_download(:'export_id')),
  'the document holds their rows');
select results_eq(
  $$ select status, approval_required, grace_period, scheduled_for - received_at from privacy.create_request('erasure') $$,
  $$ values ('scheduled'::text, false, interval '7 days', interval '7 days') $$,
  'subject: an erasure of themselves is scheduled after the default grace period, no approval needed');
select id as subj_erasure from privacy.requests where kind = 'erasure' and subject_user_id = :'subj' \gset
select throws_ok($$ select privacy.create_request('erasure') $$, 'P0001', 'an erasure of this person is already open',
  'a second open erasure of the same person: 409');
select throws_ok(format($$ select privacy.create_request('export', %L) $$, :'other'),
  'P0001', 'only staff can make a request for another person', 'subject: a request about someone else: 403');
select throws_ok($$ select privacy.create_request('erasure', null, null, interval '1 hour', 'hurry') $$,
  'P0001', 'only staff can shorten the grace period', 'subject: shortening the grace period: 403');
select throws_ok($$ select privacy.create_request('delete') $$, 'P0001', 'kind must be export or erasure', 'unknown kind: 422');
select throws_ok(format($$ select privacy.approve_request(%L) $$, :'subj_erasure'),
  'P0001', 'only an admin can approve an erasure', 'subject: approving: 403');
select is((select count(*)::int from privacy.requests), 2, 'subject: sees exactly their own two requests');

-- ---------------------------------------------------------------------------------------------
-- Stranger: sees nothing, every id answers 404
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'stranger');
select is_empty($$ select 1 from privacy.requests $$, 'stranger: sees no request');
select throws_ok(format($$ select privacy.cancel_request(%L) $$, :'subj_erasure'),
  'P0001', 'request not found', 'stranger: cancel: 404');
select throws_ok(format($$ select privacy.approve_request(%L) $$, :'subj_erasure'),
  'P0001', 'request not found', 'stranger: approve: 404');
select throws_ok(format($$ select * from privacy.export_download(%L) $$, :'export_id'),
  'P0001', 'request not found', 'stranger: download: 404');
select throws_ok($$ select privacy.cancel_request('00000000-0000-4000-a000-000000000000') $$,
  'P0001', 'request not found', 'a request that does not exist: the same 404');
select throws_ok($$ select * from privacy.export_download('00000000-0000-4000-a000-000000000000') $$,
  'P0001', 'request not found', 'download of a request that does not exist: 404');
select throws_ok($$ select privacy.run_due_erasures() $$, 'P0001', 'only an admin or automation can run erasures',
  'stranger: running erasures: 403');
select throws_ok($$ select * from privacy.pending_clerk_deletions() $$, 'P0001', 'only an admin or automation can run erasures',
  'stranger: listing pending Clerk deletions: 403');

-- ---------------------------------------------------------------------------------------------
-- Support: sees everything; requests for others need a reason and an admin's approval
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'support');
select ok((select count(*) >= 2 from privacy.requests where subject_user_id = :'subj'), 'support: sees the subject''s requests');
select is((select count(*)::int from privacy.export_download(:'export_id')), 1, 'support: downloads the subject''s export');
select throws_ok(format($$ select privacy.create_request('erasure', %L) $$, :'other'),
  'P0001', 'staff must give a reason or ticket reference', 'support: a request about someone else without a reason: 422');
select throws_ok(format($$ select privacy.create_request('erasure', %L, 'TICKET-1', interval '1 hour') $$, :'other'),
  'P0001', 'a reason is required to shorten the grace period', 'support: shortening the grace without a reason: 422');
select throws_ok(format($$ select privacy.create_request('erasure', %L, 'TICKET-1', interval '30 days', 'longer') $$, :'other'),
  'P0001', null, 'support: a grace period longer than the default: 422');
select throws_ok($$ select privacy.create_request('export', 'user_doesnotexist1', 'TICKET-0') $$,
  'P0001', 'user not found', 'support: a request about an unknown user: 404');
select results_eq(
  format($$ select requested_as, status, approval_required, scheduled_for is null, grace_period, grace_reason
              from privacy.create_request('erasure', %L, 'TICKET-1', interval '1 hour', 'legal hold lifted') $$, :'other'),
  $$ values ('support'::text, 'received'::text, true, true, interval '1 hour', 'legal hold lifted'::text) $$,
  'support: an erasure for someone else waits for approval, with the shortened grace and its reason');
select id as support_erasure from privacy.requests where kind = 'erasure' and subject_user_id = :'other' \gset
select throws_ok(format($$ select privacy.approve_request(%L) $$, :'support_erasure'),
  'P0001', 'only an admin can approve an erasure', 'support: approving (even their own): 403');

-- The requester becomes an admin: still cannot approve their own request.
select tests.clear_authentication();
update users set role = 'admin' where id = :'support';
select tests.authenticate_as(:'support');
select throws_ok(format($$ select privacy.approve_request(%L) $$, :'support_erasure'),
  'P0001', 'the requester cannot approve their own request', 'the requester, now an admin: approving their own: 403');
select tests.clear_authentication();
update users set role = 'support' where id = :'support';

-- ---------------------------------------------------------------------------------------------
-- Admin: approves another person's request; needs no approval for their own
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'admin');
select results_eq(
  format($$ select status, approved_by, scheduled_for = received_at + interval '1 hour' from privacy.approve_request(%L) $$,
         :'support_erasure'),
  format($$ values ('scheduled'::text, %L::text, true) $$, :'admin'),
  'admin: approves support''s erasure; it is scheduled after its (shortened) grace period');
select throws_ok(format($$ select privacy.approve_request(%L) $$, :'support_erasure'),
  'P0001', 'the request is scheduled and cannot be approved', 'approving twice: 409');
select throws_ok(format($$ select privacy.approve_request(%L) $$, :'subj_erasure'),
  'P0001', 'this request needs no approval', 'approving a request that needs none: 409');
select throws_ok(format($$ select privacy.approve_request(%L) $$, :'export_id'),
  'P0001', 'this request needs no approval', 'approving an export: 409');
select results_eq(
  format($$ select (privacy.cancel_request(%L)).status $$, :'support_erasure'),
  $$ values ('cancelled'::text) $$, 'admin: cancels the scheduled erasure');
select results_eq(
  format($$ select status, approval_required, scheduled_for - received_at, grace_reason
              from privacy.create_request('erasure', %L, 'TICKET-2', interval '0', 'account compromised') $$, :'other'),
  $$ values ('scheduled'::text, false, interval '0', 'account compromised'::text) $$,
  'admin: an erasure for someone else is scheduled at once (grace shortened to 0 with a reason), no approval');

-- ---------------------------------------------------------------------------------------------
-- Cancel: until it starts
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'subj');
select results_eq(
  format($$ select status, cancelled_by from privacy.cancel_request(%L) $$, :'subj_erasure'),
  format($$ values ('cancelled'::text, %L::text) $$, :'subj'),
  'subject: cancels their scheduled erasure');
select throws_ok(format($$ select privacy.cancel_request(%L) $$, :'subj_erasure'),
  'P0001', 'the request is cancelled and can no longer be cancelled', 'cancelling twice: 409');
select throws_ok(format($$ select privacy.cancel_request(%L) $$, :'export_id'),
  'P0001', 'the request is completed and can no longer be cancelled', 'cancelling a completed export: 409');
select tests.clear_authentication();
update privacy.requests set status = 'in_progress', started_at = now() where subject_user_id = :'other' and status = 'scheduled';
select tests.authenticate_as(:'admin');
select throws_ok(
  format($$ select privacy.cancel_request(id) from privacy.requests where subject_user_id = %L and status = 'in_progress' $$, :'other'),
  'P0001', 'the request is in_progress and can no longer be cancelled', 'an erasure in progress cannot be cancelled');
select tests.clear_authentication();
update privacy.requests set status = 'scheduled', started_at = null where subject_user_id = :'other' and status = 'in_progress';

-- ---------------------------------------------------------------------------------------------
-- Anon and service role
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok($$ select privacy.create_request('export') $$, '42501', null, 'anon: cannot call create_request');
select throws_ok($$ select 1 from privacy.requests $$, '42501', null, 'anon: cannot read requests');
select tests.authenticate_as_service_role();
select throws_ok($$ select privacy.create_request('export') $$, '42501', null,
  'service role: requests are made by people (create_request is not granted)');
select ok((select count(*) > 0 from privacy.requests where subject_user_id = :'subj'), 'service role: reads requests');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------
-- Rate limit: a fixed window per actor and action
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'stranger');
select is(
  (select count(*)::int from (select privacy.take_rate_limit('create') as l from generate_series(1, 10)) s
    where (s.l).allowed), 10,
  'ten creates in one window are allowed (dsar_rate_create = 10)');
select results_eq(
  $$ select allowed, hits, max_hits, retry_after_seconds between 1 and 3600 from privacy.take_rate_limit('create') $$,
  $$ values (false, 11, 10, true) $$,
  'the eleventh is refused, with the seconds until the window ends');
select is((select allowed from privacy.take_rate_limit('read')), true, 'another action has its own counter');
select tests.authenticate_as(:'subj');
select is((select hits from privacy.take_rate_limit('create')), 1, 'another actor has their own counter');
select throws_ok($$ select privacy.take_rate_limit('everything') $$, '22023', null, 'unknown action refused');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------
-- Jobs: overdue flag, export purge
-- ---------------------------------------------------------------------------------------------
update privacy.requests set received_at = now() - interval '40 days' where id = :'export_id';
update privacy.requests set status = 'received', completed_at = null where id = :'export_id';
select is((ops.flag_overdue_dsars() ->> 'flagged')::int >= 1, true, 'flag-overdue-dsars flags the request past due_at');
select isnt((select overdue_at from privacy.requests where id = :'export_id'), null, 'overdue_at is set');
select is(
  (select count(*)::int from audit.log where action = 'dsar.export.overdue' and target_id = :'export_id'), 1,
  'and audited once');
select is((ops.flag_overdue_dsars() ->> 'flagged')::int, 0, 'a second run flags nothing new');
update privacy.requests set status = 'completed', completed_at = now() where id = :'export_id';

update privacy.exports set created_at = now() - interval '8 days', expires_at = now() - interval '1 day'
 where request_id = :'export_id';
select tests.authenticate_as(:'subj');
select throws_ok(format($$ select * from privacy.export_download(%L) $$, :'export_id'),
  'P0001', 'the export has expired', 'an expired export: 410');
select tests.clear_authentication();
select ok((ops.purge_dsar_exports() ->> 'exports')::int >= 1, 'purge-dsar-exports deletes the expired export');
select is_empty(format($$ select 1 from privacy.exports where request_id = %L $$, :'export_id'), 'it is gone');

-- ---------------------------------------------------------------------------------------------
-- Audit: every action, ids and counts only
-- ---------------------------------------------------------------------------------------------
select set_has(
  format($$ select action from audit.log where target_table = 'requests' and details ->> 'subject_user_id' in (%L, %L) $$,
         :'subj', :'other'),
  $$ values ('dsar.export.requested'), ('dsar.export.completed'), ('dsar.export.downloaded'), ('dsar.erasure.requested'),
            ('dsar.erasure.approved'), ('dsar.erasure.cancelled') $$,
  'created, completed, downloaded, approved and cancelled are audited');
select results_eq(
  format($$ select actor, actor_kind from audit.log where action = 'dsar.erasure.approved' and target_id = %L $$, :'support_erasure'),
  format($$ values (%L::text, 'staff'::text) $$, :'admin'),
  'the approval is recorded with the approving admin as actor');

select * from finish();
rollback;
