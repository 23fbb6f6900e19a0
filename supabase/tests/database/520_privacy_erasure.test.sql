-- Export and erasure against the data map: the export holds every mapped row of the subject (one
-- array per exported table, counts equal to the tables'); the erasure leaves zero rows in every
-- table that is not retained, writes the tombstone, records counts and a verifiable proof, is
-- harmless to re-run, and nothing resurrects the subject afterwards; Clerk's user.deleted goes
-- through an erasure (its own, or the subject's open one); a failure in the middle of an erasure
-- leaves every row as it was and marks the request failed (the webhook still writes the tombstone).
begin;
set search_path = public, extensions, tests;

select plan(43);

-- A subject with rows in every mapped table that a live person can have rows in.
select tests.create_user('dsarerase') as subj \gset
select tests.create_user('dsareraseadm', 'admin') as admin \gset
update users set email = 'erase-me@example.invalid', first_name = 'Erase', display_name = 'Me',
                 preferences = '{"theme": "dark"}' where id = :'subj';
insert into projects (user_id, name, description) select :'subj', 'Project ' || g, 'secret plans' from generate_series(1, 3) g;
insert into workspace_tabs (project_id, user_id, position, title, kind)
select p.id, :'subj', t, 'Tab ' || t, 'doc' from projects p cross join generate_series(0, 1) t where p.user_id = :'subj';
update projects set status = 'archived' where user_id = :'subj' and name = 'Project 1';
insert into private.clerk_webhook_inbox (svix_id, event_type, clerk_user_id, event_at, outcome)
values ('msg_dsarerase_' || :'subj', 'user.created', :'subj', now(), 'applied');
select tests.authenticate_as(:'subj');
select allowed as counted from privacy.take_rate_limit('create') \gset
select id as export_id from privacy.create_request('export') \gset
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------
-- Export completeness against the data map
-- ---------------------------------------------------------------------------------------------
select privacy.build_export(:'subj')::text as doc \gset
select privacy.subject_counts(:'subj')::text as counts \gset
select set_eq(
  format($$ select json_object_keys(%L::json -> 'tables') $$, :'doc'),
  $$ select table_schema || '.' || table_name from privacy.data_map where export $$,
  'the export has one entry per table with export = true in the data map, no more, no less');
select is_empty(
  format($$ select m.table_schema || '.' || m.table_name
              from privacy.data_map m
             where m.export
               and json_array_length(%L::json -> 'tables' -> (m.table_schema || '.' || m.table_name))
                   <> (%L::jsonb ->> (m.table_schema || '.' || m.table_name))::int $$, :'doc', :'counts'),
  'for every exported table, the export holds exactly as many rows as the table has for the subject');
select is_empty(
  format($$ select key from jsonb_each_text(%L::json::jsonb -> 'counts') c
             where c.value::int <> (%L::jsonb ->> c.key)::int $$, :'doc', :'counts'),
  'and its counts say so');
select ok(
  (select (:'counts'::jsonb ->> 'public.users')::int = 1 and (:'counts'::jsonb ->> 'public.projects')::int = 3
      and (:'counts'::jsonb ->> 'public.workspace_tabs')::int = 6 and (:'counts'::jsonb ->> 'public.workspace_history')::int >= 10
      and (:'counts'::jsonb ->> 'private.clerk_webhook_inbox')::int = 1 and (:'counts'::jsonb ->> 'privacy.requests')::int = 1
      and (:'counts'::jsonb ->> 'privacy.rate_limits')::int = 1 and (:'counts'::jsonb ->> 'audit.log')::int >= 1),
  'the subject has rows in users, projects, tabs, history, inbox, requests, rate limits and the audit log');
select is(:'doc'::json -> 'tables' -> 'public.users' -> 0 ->> 'email', 'erase-me@example.invalid', 'the profile is in it');
select is(:'doc'::json #>> '{data_map,public.users,columns,email,classification}', 'contact',
  'with the classification of every column');
select is(
  (select sha256 from privacy.exports where request_id = :'export_id'),
  (select encode(sha256(convert_to(document::text, 'UTF8')), 'hex') from privacy.exports where request_id = :'export_id'),
  'the stored export carries the sha256 of its bytes');

-- ---------------------------------------------------------------------------------------------
-- Erasure: zero rows left, tombstone, counts, proof
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'admin');
select id as erasure_id from privacy.create_request('erasure', :'subj', 'TICKET-9', interval '0', 'subject asked by phone') \gset
select tests.clear_authentication();
select is(privacy.run_erasure(:'erasure_id'), 'completed', 'the due erasure completes');
select is_empty(
  format($$ select key from jsonb_each_text(privacy.subject_counts(%L)) c
              join privacy.data_map m on m.table_schema || '.' || m.table_name = c.key
             where m.erasure <> 'retain' and c.value::int <> 0 $$, :'subj'),
  'no table that is not retained holds a row of the subject');
select is_empty(format($$ select 1 from users where id = %L union all select 1 from projects where user_id = %L
                         union all select 1 from workspace_tabs where user_id = %L
                         union all select 1 from workspace_history where user_id = %L
                         union all select 1 from private.clerk_webhook_inbox where clerk_user_id = %L
                         union all select 1 from privacy.exports where subject_user_id = %L
                         union all select 1 from privacy.rate_limits where actor = %L $$,
                       :'subj', :'subj', :'subj', :'subj', :'subj', :'subj', :'subj'),
  'users, projects, tabs, history, inbox, exports, rate limits: zero rows (checked directly)');
select is(
  (select clerk_user_id from private.clerk_webhook_inbox where svix_id = 'msg_dsarerase_' || :'subj'), null,
  'the webhook delivery stays (replays are still recognised) without the user id');
select ok(exists (select 1 from private.clerk_user_tombstones where user_id = :'subj'), 'the tombstone is written');
select results_eq(
  format($$ select status, completed_at is not null, error, attempts from privacy.requests where id = %L $$, :'erasure_id'),
  $$ values ('completed'::text, true, null::text, 1) $$, 'the request is completed');
select results_eq(
  format($$ select (row_counts #>> '{public.projects,rows}')::int, row_counts #>> '{public.projects,action}',
                   (row_counts #>> '{public.workspace_tabs,rows}')::int, (row_counts #>> '{public.users,rows}')::int,
                   (row_counts #>> '{private.clerk_webhook_inbox,rows}')::int, row_counts #>> '{private.clerk_webhook_inbox,action}'
              from privacy.requests where id = %L $$, :'erasure_id'),
  $$ values (3, 'cascade'::text, 6, 1, 1, 'anonymize'::text) $$,
  'per-table counts and actions are recorded');
select is_empty(
  format($$ select key from privacy.requests r, jsonb_each_text(r.proof -> 'remaining') c
             where r.id = %L and c.value::int <> 0 $$, :'erasure_id'),
  'the proof lists zero remaining rows for every erased table');
select set_eq(
  format($$ select jsonb_object_keys(proof -> 'remaining') from privacy.requests where id = %L $$, :'erasure_id'),
  $$ select table_schema || '.' || table_name from privacy.data_map where erasure <> 'retain' $$,
  'for every table that is not retained');
select ok(
  (select proof ->> 'sha256' = encode(sha256(convert_to((proof - 'sha256')::text, 'UTF8')), 'hex')
     and (proof #>> '{retained,private.clerk_user_tombstones,rows}')::int = 1
     and proof #>> '{retained,audit.log,legal_basis}' is not null
     and (proof ->> 'tombstone')::boolean
     from privacy.requests where id = :'erasure_id'),
  'the proof names what is retained and why, and carries the sha256 of its content');
select is(
  (select count(*)::int from audit.log where action = 'dsar.erasure.completed' and target_id = :'erasure_id'), 1,
  'the completion is audited');
select ok(
  (select details::text !~ 'erase-me|Erase|secret plans' from audit.log
    where action = 'dsar.erasure.completed' and target_id = :'erasure_id'),
  'with ids and counts only');

-- Re-running is harmless.
select completed_at as first_completed_at, proof::text as first_proof from privacy.requests where id = :'erasure_id' \gset
select results_eq(
  format($$ select status, completed_at, proof::text from privacy.execute_erasure(%L) $$, :'erasure_id'),
  format($$ values ('completed'::text, %L::timestamptz, %L::text) $$, :'first_completed_at', :'first_proof'),
  'executing a completed erasure again changes nothing');
select is(privacy.run_erasure(:'erasure_id'), 'completed', 'run_erasure on it: completed, untouched');
select is(
  (select count(*)::int from audit.log where action = 'dsar.erasure.completed' and target_id = :'erasure_id'), 1,
  'and no second completion is recorded');

-- Nothing resurrects the subject.
select tests.authenticate_as_service_role();
select is(
  private.apply_clerk_event(p_svix_id => 'msg_dsarlate_' || :'subj', p_event_type => 'user.updated', p_user_id => :'subj',
    p_email => 'back@example.invalid', p_clerk_updated_at => now() + interval '1 day'),
  'tombstoned', 'a late user.updated webhook: tombstoned');
select is(
  (select clerk_user_id from private.clerk_webhook_inbox where svix_id = 'msg_dsarlate_' || :'subj'), null,
  'and its inbox row keeps no user id');
select tests.authenticate_as(:'subj');
select throws_ok(format($$ insert into users (id) values (%L) $$, :'subj'), 'P0001', 'this user has been deleted',
  'just-in-time provisioning from a still-valid token: refused (410)');
select throws_ok($$ select privacy.create_request('export') $$, 'P0001', 'this user has been deleted',
  'a new request from the erased subject: 410');
select is((select status from privacy.requests where id = :'erasure_id'), 'completed',
  'the erased subject still sees their completed request (proof for them too)');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------
-- Clerk user.deleted goes through an erasure
-- ---------------------------------------------------------------------------------------------
select tests.create_user('dsarclerk') as clerk_subj \gset
insert into projects (user_id, name) values (:'clerk_subj', 'P');
select tests.authenticate_as(:'clerk_subj');
select id as open_erasure from privacy.create_request('erasure') \gset
select tests.authenticate_as_service_role();
select is(
  private.apply_clerk_event(p_svix_id => 'msg_dsarclerk_' || :'clerk_subj', p_event_type => 'user.deleted',
    p_user_id => :'clerk_subj', p_event_at => '2026-05-01 00:00:00+00'),
  'applied', 'user.deleted for a subject with an open erasure: applied');
select tests.clear_authentication();
select results_eq(
  format($$ select status, requested_as, clerk_delete_required from privacy.requests where subject_user_id = %L $$, :'clerk_subj'),
  $$ values ('completed'::text, 'subject'::text, false) $$,
  'the subject''s own open erasure was executed at once (no grace left, no Clerk call needed), no second request');
select results_eq(
  format($$ select deleted_at from private.clerk_user_tombstones where user_id = %L $$, :'clerk_subj'),
  $$ values ('2026-05-01 00:00:00+00'::timestamptz) $$, 'the tombstone carries Clerk''s deletion time');

select tests.random_id('user_dsarnever') as never \gset
select tests.authenticate_as_service_role();
select is(
  private.apply_clerk_event(p_svix_id => 'msg_dsarnever_' || :'never', p_event_type => 'user.deleted', p_user_id => :'never'),
  'applied', 'user.deleted for a user never seen: applied');
select is(
  private.apply_clerk_event(p_svix_id => 'msg_dsarnever2_' || :'never', p_event_type => 'user.deleted', p_user_id => :'never'),
  'tombstoned', 'the same deletion again (another svix id): nothing left to do');
select tests.clear_authentication();
select results_eq(
  format($$ select requested_as, status, grace_period, clerk_delete_required, requester_user_id is null,
                   (proof ->> 'tombstone')::boolean
              from privacy.requests where subject_user_id = %L $$, :'never'),
  $$ values ('clerk'::text, 'completed'::text, interval '0', false, true, true) $$,
  'one erasure request by clerk, no grace, completed with proof, no Clerk call to make');

-- ---------------------------------------------------------------------------------------------
-- A failure in the middle of an erasure leaves everything as it was
-- ---------------------------------------------------------------------------------------------
select tests.create_user('dsarfail') as fail_subj \gset
update users set email = 'fail@example.invalid' where id = :'fail_subj';
insert into projects (user_id, name) select :'fail_subj', 'F' || g from generate_series(1, 2) g;
insert into workspace_tabs (project_id, user_id, position, title, kind)
select p.id, :'fail_subj', 0, 'T', 'doc' from projects p where p.user_id = :'fail_subj';
insert into private.clerk_webhook_inbox (svix_id, event_type, clerk_user_id, outcome)
values ('msg_dsarfail_' || :'fail_subj', 'user.created', :'fail_subj', 'applied');
select tests.authenticate_as(:'admin');
select id as fail_erasure from privacy.create_request('erasure', :'fail_subj', 'TICKET-F', interval '0', 'test') \gset
select tests.clear_authentication();

-- Everything of the subject, before. History, the inbox and the export are written before the
-- tabs are removed (the injected failure), so a partial erasure would show in this snapshot.
create function tests.dsar_snapshot(subject text) returns text language sql as $$
  select privacy.subject_counts(subject)::text
      || (select coalesce(string_agg(u::text, ''), '') from public.users u where u.id = subject)
      || (select coalesce(string_agg(h::text, '' order by h.id), '') from public.workspace_history h where h.user_id = subject)
      || (select coalesce(string_agg(i::text, ''), '') from private.clerk_webhook_inbox i where i.clerk_user_id = subject)
      || (select coalesce(string_agg(t::text, '' order by t.id), '') from public.workspace_tabs t where t.user_id = subject)
$$;
select tests.dsar_snapshot(:'fail_subj') as before_snapshot \gset
create function tests.dsar_fail() returns trigger language plpgsql as $$
begin
  raise exception 'injected failure' using table = 'workspace_tabs';
end;
$$;
create trigger dsar_inject_failure before delete on public.workspace_tabs
  for each row when (old.user_id like 'user_dsarfail%') execute function tests.dsar_fail();

select is(privacy.run_erasure(:'fail_erasure'), 'failed', 'an erasure failing in the middle (while removing tabs) ends failed');
select is(tests.dsar_snapshot(:'fail_subj'), :'before_snapshot',
  'every row of the subject is as before: history not deleted, inbox not anonymized, user still there');
select ok(not exists (select 1 from private.clerk_user_tombstones where user_id = :'fail_subj'), 'no tombstone was written');
select results_eq(
  format($$ select status, attempts, error, completed_at is null, proof is null from privacy.requests where id = %L $$, :'fail_erasure'),
  $$ values ('failed'::text, 1, 'sqlstate=P0001 table=workspace_tabs'::text, true, true) $$,
  'the request is failed with an error code (no message text), attempt counted');
select is(
  (select count(*)::int from audit.log where action = 'dsar.erasure.failed' and target_id = :'fail_erasure'), 1,
  'the failure is audited');

-- Clerk deletes the same user while the failure persists: the tombstone is written anyway.
select tests.authenticate_as_service_role();
select is(
  private.apply_clerk_event(p_svix_id => 'msg_dsarfail2_' || :'fail_subj', p_event_type => 'user.deleted', p_user_id => :'fail_subj'),
  'applied', 'user.deleted while the erasure keeps failing: applied');
select tests.clear_authentication();
select ok(
  exists (select 1 from private.clerk_user_tombstones where user_id = :'fail_subj')
  and exists (select 1 from users where id = :'fail_subj')
  and (select status from privacy.requests where id = :'fail_erasure') = 'failed',
  'the tombstone is written (nothing can resurrect the user) while the erasure stays failed, to be retried');

-- The cause goes away: the job retries and completes.
drop trigger dsar_inject_failure on public.workspace_tabs;
select ok((ops.run_due_erasures() ->> 'completed')::int >= 1, 'run-due-erasures retries the failed erasure');
select results_eq(
  format($$ select status, attempts from privacy.requests where id = %L $$, :'fail_erasure'),
  $$ values ('completed'::text, 3) $$, 'completed on its third attempt');
select is(
  (select count(*)::int from users where id = :'fail_subj') + (select count(*)::int from workspace_tabs where user_id = :'fail_subj'),
  0, 'and the subject is gone');

select * from finish();
rollback;
