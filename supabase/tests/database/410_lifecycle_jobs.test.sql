-- The lifecycle job bodies against seeded rows: what goes and what must stay (rows one minute
-- past and one minute inside the retention, rows of other states), batching (at most batch_size
-- rows per statement, at most max_batches per run, `more` when the next run must continue), the
-- retentions read from ops.settings, and the audit entry of each run (counts only).
-- The jobs act on whole tables, and a shared development database may hold large volumes of old
-- rows (benchmarks) that one bounded run does not get through. So the sections first move the
-- retention to ten years and seed rows around that boundary, which nothing else has; the defaults
-- themselves are checked in 400_ops_settings. The user section keeps the default idle time.
begin;
set search_path = public, extensions, tests;

select plan(53);

select tests.create_user('jobowner') as owner \gset

-- =============================================================================================
-- purge-deleted-projects
-- =============================================================================================

-- One project a minute past the retention, one a minute inside it, an old active project and an
-- archived one.
update ops.settings set value = '3650 days' where key = 'project_retention';
insert into projects (user_id, name) values (:'owner', 'Expired') returning id as expired \gset
insert into projects (user_id, name) values (:'owner', 'Inside') returning id as inside \gset
insert into projects (user_id, name, created_at) values (:'owner', 'Old active', now() - interval '4000 days')
returning id as old_active \gset
insert into projects (user_id, name) values (:'owner', 'Archived') returning id as archived \gset
insert into workspace_tabs (project_id, user_id, position, title, kind)
values (:'expired', :'owner', 0, 'One', 'notes'), (:'expired', :'owner', 1, 'Two', 'notes'),
       (:'inside', :'owner', 0, 'Kept', 'notes');
update projects set status = 'deleted', deleted_at = now() - interval '3650 days 1 minute' where id = :'expired';
update projects set status = 'deleted', deleted_at = now() - interval '3650 days' + interval '1 minute' where id = :'inside';
update projects set status = 'archived', deleted_at = null where id = :'archived';

select isnt(
  (select count(*)::int from workspace_history where project_id = :'expired'), 0,
  'fixture: the expired project has history');

select ops.purge_deleted_projects() as purge_result \gset

select is((:'purge_result'::jsonb) ->> 'status', 'completed', 'purge: the run completes');
select ok(((:'purge_result'::jsonb) ->> 'projects')::int >= 1, 'purge: reports deleted projects');
select is((select count(*)::int from projects where id = :'expired'), 0,
  'purge: a project deleted a minute past the retention is gone');
select is((select count(*)::int from workspace_tabs where project_id = :'expired'), 0, 'purge: with its tabs');
select is((select count(*)::int from workspace_history where project_id = :'expired'), 0, 'purge: and its history');
select is((select status from projects where id = :'inside'), 'deleted',
  'purge: a project deleted a minute inside the retention stays');
select is((select count(*)::int from workspace_tabs where project_id = :'inside'), 1, 'purge: with its tabs');
select isnt((select count(*)::int from workspace_history where project_id = :'inside'), 0, 'purge: and its history');
select ok((select deleted_at > now() - private.project_restore_window() from projects where id = :'inside'),
  'purge: what stays is exactly what the restore route still accepts');
select is((select count(*)::int from projects where id in (:'old_active', :'archived')), 2,
  'purge: active and archived projects stay, however old');

-- The audit entry: counts only, no row ids.
select results_eq(
  $$ select actor_kind, target_schema, target_table, details ?& array['projects', 'tabs', 'history', 'batches', 'more'],
            details ? 'ids'
       from audit.log where action = 'job.completed' and target_id = 'purge-deleted-projects'
      order by id desc limit 1 $$,
  $$ values ('database'::text, 'cron'::text, 'job'::text, true, false) $$,
  'purge: audited as job.completed with counts and no ids');

-- Batching: one project with 5 history rows beyond the retention.
insert into projects (user_id, name) values (:'owner', 'Ancient') returning id as ancient \gset
insert into workspace_tabs (project_id, user_id, position, title, kind) values (:'ancient', :'owner', 0, 'Old', 'notes');
update projects set status = 'deleted', deleted_at = now() - interval '3650 days 1 minute' where id = :'ancient';
delete from workspace_history where project_id = :'ancient';
insert into workspace_history (project_id, user_id, action) select :'ancient', :'owner', 'test.event' from generate_series(1, 5);

select ops.purge_deleted_projects(batch_size => 2, max_batches => 2) as purge_1 \gset
select results_eq(
  format($$ select (%L::jsonb ->> 'history')::int, (%L::jsonb ->> 'projects')::int, (%L::jsonb ->> 'batches')::int,
                   (%L::jsonb ->> 'more')::boolean $$, :'purge_1', :'purge_1', :'purge_1', :'purge_1'),
  $$ values (4, 0, 2, true) $$,
  'purge batching: 2 batches of 2 history rows, then stops and says more');
select is((select count(*)::int from workspace_history where project_id = :'ancient'), 1, 'purge batching: 1 history row left');
select is((select count(*)::int from projects where id = :'ancient'), 1, 'purge batching: the project waits for its history');

select ops.purge_deleted_projects(batch_size => 2, max_batches => 10) as purge_2 \gset
select results_eq(
  format($$ select (%L::jsonb ->> 'history')::int, (%L::jsonb ->> 'projects')::int, (%L::jsonb ->> 'tabs')::int,
                   (%L::jsonb ->> 'batches')::int, (%L::jsonb ->> 'more')::boolean $$,
         :'purge_2', :'purge_2', :'purge_2', :'purge_2', :'purge_2'),
  $$ values (1, 1, 1, 2, false) $$,
  'purge batching: the next run deletes the last history row, then the project and its tab');
update ops.settings set value = '3649 days' where key = 'project_retention';
select ops.purge_deleted_projects() as purge_3 \gset
select is((select count(*)::int from projects where id = :'inside'), 0,
  'purge: the retention comes from ops.settings (a shorter one purges what stayed)');
select throws_ok($$ select ops.purge_deleted_projects(batch_size => 0) $$, '22023', null,
  'purge: a batch size below 1 is refused');
update ops.settings set value = '30 days' where key = 'project_retention';

-- =============================================================================================
-- trim-workspace-history
-- =============================================================================================
update ops.settings set value = '3650 days' where key = 'workspace_history_retention';
insert into projects (user_id, name) values (:'owner', 'Live') returning id as live \gset
insert into workspace_history (project_id, user_id, action, changed_at)
values (:'live', :'owner', 'test.past', now() - interval '3650 days 1 minute') returning id as h_past \gset
insert into workspace_history (project_id, user_id, action, changed_at)
values (:'live', :'owner', 'test.inside', now() - interval '3650 days' + interval '1 minute') returning id as h_inside \gset

select ops.trim_workspace_history() as trim_result \gset
select is((:'trim_result'::jsonb) ->> 'status', 'completed', 'trim: the run completes');
select is((select count(*)::int from workspace_history where id = :h_past), 0,
  'trim: an event a minute past the retention is gone');
select is((select count(*)::int from workspace_history where id = :h_inside), 1,
  'trim: an event a minute inside the retention stays');
select isnt((select count(*)::int from workspace_history where project_id = :'live' and action = 'project.created'), 0,
  'trim: recent events stay');
select is((select count(*)::int from projects where id = :'live'), 1, 'trim: the project itself is untouched');

insert into workspace_history (project_id, user_id, action, changed_at)
select :'live', :'owner', 'test.ancient', now() - interval '3650 days 1 minute' - g * interval '1 second'
  from generate_series(1, 7) g;

select ops.trim_workspace_history(batch_size => 3, max_batches => 2) as trim_1 \gset
select results_eq(
  format($$ select (%L::jsonb ->> 'history')::int, (%L::jsonb ->> 'batches')::int, (%L::jsonb ->> 'more')::boolean $$,
         :'trim_1', :'trim_1', :'trim_1'),
  $$ values (6, 2, true) $$,
  'trim batching: 2 batches of 3, then more');
select is((select count(*)::int from workspace_history where action = 'test.ancient'), 1, 'trim batching: 1 left');
select ops.trim_workspace_history(batch_size => 3, max_batches => 2) as trim_2 \gset
select results_eq(
  format($$ select (%L::jsonb ->> 'history')::int, (%L::jsonb ->> 'batches')::int, (%L::jsonb ->> 'more')::boolean $$,
         :'trim_2', :'trim_2', :'trim_2'),
  $$ values (1, 1, false) $$,
  'trim batching: the next run finishes');
update ops.settings set value = '3649 days' where key = 'workspace_history_retention';
select ops.trim_workspace_history() as trim_3 \gset
select is((select count(*)::int from workspace_history where id = :h_inside), 0,
  'trim: the retention comes from ops.settings (a shorter one trims what stayed)');
update ops.settings set value = '90 days' where key = 'workspace_history_retention';

-- =============================================================================================
-- prune-webhook-inbox
-- =============================================================================================
update ops.settings set value = '3650 days' where key = 'webhook_inbox_retention';
select tests.random_id('msg_ops') as m \gset
insert into private.clerk_webhook_inbox (svix_id, event_type, received_at, outcome)
values (:'m' || '_past', 'user.updated', now() - interval '3650 days 1 minute', 'applied'),
       (:'m' || '_inside', 'user.updated', now() - interval '3650 days' + interval '1 minute', 'applied'),
       (:'m' || '_new', 'user.updated', now(), 'applied');

select ops.prune_webhook_inbox() as inbox_result \gset
select is((:'inbox_result'::jsonb) ->> 'status', 'completed', 'inbox: the run completes');
select is((select count(*)::int from private.clerk_webhook_inbox where svix_id = :'m' || '_past'), 0,
  'inbox: a delivery a minute past the retention is gone');
select is((select count(*)::int from private.clerk_webhook_inbox where svix_id in (:'m' || '_inside', :'m' || '_new')), 2,
  'inbox: deliveries inside the retention stay');

insert into private.clerk_webhook_inbox (svix_id, event_type, received_at, outcome)
select :'m' || '_ancient_' || g, 'session.created', now() - interval '3650 days 1 minute', 'ignored'
  from generate_series(1, 5) g;
select ops.prune_webhook_inbox(batch_size => 2, max_batches => 2) as inbox_1 \gset
select results_eq(
  format($$ select (%L::jsonb ->> 'deliveries')::int, (%L::jsonb ->> 'batches')::int, (%L::jsonb ->> 'more')::boolean $$,
         :'inbox_1', :'inbox_1', :'inbox_1'),
  $$ values (4, 2, true) $$,
  'inbox batching: 2 batches of 2, then more');
select ops.prune_webhook_inbox(batch_size => 2, max_batches => 2) as inbox_2 \gset
select results_eq(
  format($$ select (%L::jsonb ->> 'deliveries')::int, (%L::jsonb ->> 'more')::boolean $$, :'inbox_2', :'inbox_2'),
  $$ values (1, false) $$,
  'inbox batching: the next run finishes');
update ops.settings set value = '3649 days' where key = 'webhook_inbox_retention';
select ops.prune_webhook_inbox() as inbox_3 \gset
select is((select count(*)::int from private.clerk_webhook_inbox where svix_id = :'m' || '_inside'), 0,
  'inbox: the retention comes from ops.settings (a shorter one prunes what stayed)');
update ops.settings set value = '30 days' where key = 'webhook_inbox_retention';

-- =============================================================================================
-- mark-inactive-users
-- =============================================================================================

-- Batching, isolated: idle time ten years, three users created before that; no mark left to
-- clear from elsewhere in the database.
update users set inactive_since = null where inactive_since is not null;
update ops.settings set value = '3650 days' where key = 'user_inactive_after';
select tests.create_user('ancient1') as ancient1 \gset
select tests.create_user('ancient2') as ancient2 \gset
select tests.create_user('ancient3') as ancient3 \gset
update users set created_at = now() - interval '3650 days 1 minute' where id in (:'ancient1', :'ancient2', :'ancient3');
select ops.mark_inactive_users(batch_size => 2, max_batches => 1) as mark_1 \gset
select results_eq(
  format($$ select (%L::jsonb ->> 'marked')::int, (%L::jsonb ->> 'batches')::int, (%L::jsonb ->> 'more')::boolean $$,
         :'mark_1', :'mark_1', :'mark_1'),
  $$ values (2, 1, true) $$,
  'inactive batching: one batch of 2, then more');
select ops.mark_inactive_users(batch_size => 2, max_batches => 5) as mark_2 \gset
select results_eq(
  format($$ select (%L::jsonb ->> 'marked')::int, (%L::jsonb ->> 'more')::boolean $$, :'mark_2', :'mark_2'),
  $$ values (1, false) $$,
  'inactive batching: the next run marks the third');

-- Default idle time (180 days).
update ops.settings set value = '180 days' where key = 'user_inactive_after';
select tests.create_user('idle') as idle \gset
select tests.create_user('recent') as recent \gset
select tests.create_user('neverseen') as neverseen \gset
select tests.create_user('newbie') as newbie \gset
update users set created_at = now() - interval '400 days', last_sign_in_at = now() - interval '200 days',
                 last_active_at = now() - interval '180 days 1 minute' where id = :'idle';
update users set created_at = now() - interval '400 days', last_active_at = now() - interval '180 days' + interval '1 minute'
 where id = :'recent';
update users set created_at = now() - interval '180 days 1 minute' where id = :'neverseen';

select ops.mark_inactive_users() as mark_result \gset
select is((:'mark_result'::jsonb) ->> 'status', 'completed', 'inactive: the run completes');
select results_eq(
  format($$ select id, inactive_since is not null from users where id in (%L, %L, %L, %L) order by id $$,
         :'idle', :'recent', :'neverseen', :'newbie'),
  format($$ select * from (values (%L, true), (%L, false), (%L, true), (%L, false)) v(id, inactive) order by id $$,
         :'idle', :'recent', :'neverseen', :'newbie'),
  'inactive: unseen a minute past 180 days (by activity or since creation) is marked; a minute inside, or new, is not');
select is((select inactive_since from users where id = :'idle'), now(), 'inactive: inactive_since is the time of the run');

-- Activity again: the trigger clears the mark at once.
update users set last_active_at = now() where id = :'idle';
select is((select inactive_since from users where id = :'idle'), null,
  'inactive: a user whose last_active_at moves is active again');
update users set inactive_since = now() where id = :'idle';
update users set last_sign_in_at = now() + interval '1 second' where id = :'idle';
select is((select inactive_since from users where id = :'idle'), null, 'inactive: so is one who signs in');
update users set display_name = 'Renamed' where id = :'neverseen';
select isnt((select inactive_since from users where id = :'neverseen'), null,
  'inactive: other changes keep the mark');

-- A longer idle time: the job clears marks that no longer hold.
update ops.settings set value = '365 days' where key = 'user_inactive_after';
select ops.mark_inactive_users() as mark_clear \gset
select is((select inactive_since from users where id = :'neverseen'), null,
  'inactive: after the idle time was raised, the job clears a mark that no longer holds');
select ok(((:'mark_clear'::jsonb) ->> 'cleared')::int >= 1, 'inactive: and reports it as cleared');
update ops.settings set value = '180 days' where key = 'user_inactive_after';

-- =============================================================================================
-- prune-cron-history
-- =============================================================================================
insert into cron.job_run_details (jobid, runid, status, username, database, command, start_time, end_time)
values (0, tests.cron_runid(), 'succeeded', current_user, current_database(), 'select 1', now() - interval '14 days 1 minute',
        now() - interval '14 days 1 minute' + interval '1 second')
returning runid as run_past \gset
insert into cron.job_run_details (jobid, runid, status, username, database, command, return_message)
values (0, -1000000 - floor(random() * 1000000)::bigint, 'failed', current_user, current_database(), 'select 1',
        'connection failed')
returning runid as run_never_old \gset
insert into cron.job_run_details (jobid, runid, status, username, database, command, start_time, end_time)
values (0, tests.cron_runid(), 'succeeded', current_user, current_database(), 'select 1', now() - interval '14 days' + interval '1 minute',
        now() - interval '14 days' + interval '2 minutes')
returning runid as run_inside \gset
insert into cron.job_run_details (jobid, runid, status, username, database, command, return_message)
values (0, tests.cron_runid(), 'failed', current_user, current_database(), 'select 1', 'connection failed')
returning runid as run_never_new \gset

select ops.prune_cron_history() as cron_result \gset
select is((:'cron_result'::jsonb) ->> 'status', 'completed', 'cron history: the run completes');
select is((select count(*)::int from cron.job_run_details where runid = :run_past), 0,
  'cron history: a run started a minute past 14 days is gone');
select is((select count(*)::int from cron.job_run_details where runid = :run_inside), 1,
  'cron history: a run started a minute inside 14 days stays');
select is((select count(*)::int from cron.job_run_details where runid = :run_never_old), 0,
  'cron history: a run that never started, older than a run inside the retention, is gone');
select is((select count(*)::int from cron.job_run_details where runid = :run_never_new), 1,
  'cron history: a newer run that never started stays');

-- =============================================================================================
-- Every job: audited with counts only, from the settings
-- =============================================================================================
select results_eq(
  $$ select target_id, bool_and(not details ? 'ids'), bool_and(details ->> 'status' = 'completed')
       from audit.log
      where action = 'job.completed' and occurred_at = now()
      group by target_id order by target_id $$,
  $$ values ('mark-inactive-users'::text, true, true), ('prune-cron-history', true, true),
            ('prune-webhook-inbox', true, true), ('purge-deleted-projects', true, true),
            ('trim-workspace-history', true, true) $$,
  'every job run of this test left a job.completed audit entry without row ids');
select is(
  (select count(*)::int from audit.log where action = 'job.completed' and occurred_at = now()
      and not (details ? 'duration_ms' and details ? 'batches' and details ? 'more')),
  0, 'each entry carries duration, batches and more');

select throws_ok($$ select ops.trim_workspace_history(max_batches => 0) $$, '22023', null,
  'max_batches below 1 is refused');
select throws_ok($$ update ops.settings set value = '0' where key = 'cleanup_max_batches' $$, '22023', null,
  'and cannot be configured');

-- Defaults come from ops.settings when no argument is given.
update ops.settings set value = '1' where key = 'cleanup_batch_size';
update ops.settings set value = '1' where key = 'cleanup_max_batches';
update ops.settings set value = '3650 days' where key = 'workspace_history_retention';
insert into workspace_history (project_id, user_id, action, changed_at)
select :'live', :'owner', 'test.settings', now() - interval '3651 days' from generate_series(1, 3);
select ops.trim_workspace_history() as trim_settings \gset
select results_eq(
  format($$ select (%L::jsonb ->> 'history')::int, (%L::jsonb ->> 'more')::boolean $$, :'trim_settings', :'trim_settings'),
  $$ values (1, true) $$,
  'batch size and batches per run come from ops.settings');

select * from finish();
rollback;
