-- The jobs as pg_cron runs them: every lifecycle job registered in cron.job under its name with
-- the expected schedule and command and declared in ops.jobs; scheduling is idempotent by name;
-- the audit log's own jobs are listed with them by ops.job_health(); the staff-only readers
-- (job health, migration history) by actor: staff, plain user, anon, service role, owner.
begin;
set search_path = public, extensions, tests;

select plan(23);

-- ---------------------------------------------------------------------------------------------
-- cron.job entries and schedules
-- ---------------------------------------------------------------------------------------------
select results_eq(
  $$ select jobname::text collate "default", schedule, command, active from cron.job
      where jobname in ('purge-deleted-projects', 'trim-workspace-history', 'prune-webhook-inbox',
                        'mark-inactive-users', 'prune-cron-history')
      order by jobname $$,
  $$ values
       ('mark-inactive-users'::text, '37 2 * * *'::text, 'select ops.mark_inactive_users()'::text, true),
       ('prune-cron-history', '47 2 * * *', 'select ops.prune_cron_history()', true),
       ('prune-webhook-inbox', '27 * * * *', 'select ops.prune_webhook_inbox()', true),
       ('purge-deleted-projects', '7 * * * *', 'select ops.purge_deleted_projects()', true),
       ('trim-workspace-history', '17 * * * *', 'select ops.trim_workspace_history()', true) $$,
  'the five lifecycle jobs are scheduled with their expected schedules and commands');
select is(
  (select count(*)::int from cron.job where jobname in ('purge-deleted-projects', 'trim-workspace-history',
     'prune-webhook-inbox', 'mark-inactive-users', 'prune-cron-history') and database <> current_database()),
  0, 'they run in this database');
select results_eq(
  $$ select j.name, j.schedule, j.command from ops.jobs j order by j.name $$,
  $$ select c.jobname::text collate "default", c.schedule, c.command from cron.job c
      where c.jobname in (select name from ops.jobs) order by c.jobname $$,
  'ops.jobs declares exactly what cron.job holds for them');
select ok(
  (select bool_and(exists (select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
                            where n.nspname = 'ops' and j.command = format('select ops.%s()', p.proname)))
     from ops.jobs j),
  'every declared command calls a function of ops');
select is(
  (select count(*)::int from cron.job where jobname = 'audit-checkpoint'), 1,
  'the daily audit head checkpoint is scheduled (by the audit log''s migrations, not duplicated here)');

-- Idempotent by name: scheduling again updates in place.
select jobid as purge_jobid from cron.job where jobname = 'purge-deleted-projects' \gset
select is(
  ops.schedule_job('purge-deleted-projects', '7 * * * *', 'select ops.purge_deleted_projects()',
    'Hard-deletes projects soft-deleted longer than project_retention (default 30 days), with their tabs and history.'),
  :purge_jobid::bigint, 'scheduling an existing job again returns the same cron job');
select is((select count(*)::int from cron.job where jobname = 'purge-deleted-projects'), 1, 'and adds no second job');
select ops.schedule_job('purge-deleted-projects', '8 * * * *', 'select ops.purge_deleted_projects()', 'changed');
select results_eq(
  $$ select c.schedule, j.schedule from cron.job c join ops.jobs j on j.name = c.jobname::text collate "default"
      where c.jobname = 'purge-deleted-projects' $$,
  $$ values ('8 * * * *'::text, '8 * * * *'::text) $$,
  'a new schedule replaces the old one in both places');
select ok(ops.unschedule_job('purge-deleted-projects'), 'unschedule_job removes the cron job');
select is((select count(*)::int from cron.job where jobname = 'purge-deleted-projects')
          + (select count(*)::int from ops.jobs where name = 'purge-deleted-projects'), 0, 'from both places');
select is(ops.unschedule_job('purge-deleted-projects'), false, 'unscheduling an absent job is harmless');
select ops.schedule_job('purge-deleted-projects', '7 * * * *', 'select ops.purge_deleted_projects()',
  'Hard-deletes projects soft-deleted longer than project_retention (default 30 days), with their tabs and history.');

-- ---------------------------------------------------------------------------------------------
-- ops.job_health(): staff, automation and the owner only
-- ---------------------------------------------------------------------------------------------
select tests.create_user('opsstaff', 'support') as staff \gset
select tests.create_user('opsuser') as plain \gset

insert into cron.job_run_details (jobid, runid, status, username, database, command, return_message, start_time, end_time)
select c.jobid, tests.cron_runid(), 'failed', current_user, current_database(), c.command, 'ERROR: test failure',
       now() - interval '2 hours', now() - interval '2 hours' + interval '1.5 seconds'
  from cron.job c where c.jobname = 'trim-workspace-history';
insert into cron.job_run_details (jobid, runid, status, username, database, command, return_message, start_time, end_time)
select c.jobid, tests.cron_runid(), 'succeeded', current_user, current_database(), c.command, 'SELECT 1',
       now() - interval '1 hour', now() - interval '1 hour' + interval '250 milliseconds'
  from cron.job c where c.jobname = 'trim-workspace-history';

select tests.authenticate_as(:'staff');
select results_eq(
  $$ select managed, scheduled, active, schedule, declared_schedule, command_matches, last_status,
            last_duration_ms, last_failure_message
       from ops.job_health() where name = 'trim-workspace-history' $$,
  $$ values (true, true, true, '17 * * * *'::text, '17 * * * *'::text, true, 'succeeded'::text, 250::bigint,
             'ERROR: test failure'::text) $$,
  'staff: job health shows schedule, last run status and duration, last failure');
-- At least: the database may hold real runs of the job besides the two seeded ones.
select ok((select runs_24h >= 2 and failures_24h >= 1 from ops.job_health() where name = 'trim-workspace-history'),
  'staff: and runs and failures in the last 24 h');
select results_eq(
  $$ select name from ops.job_health()
      where name in ('audit-checkpoint', 'mark-inactive-users', 'prune-cron-history', 'prune-webhook-inbox',
                     'purge-deleted-projects', 'trim-workspace-history')
      order by name $$,
  $$ values ('audit-checkpoint'::text), ('mark-inactive-users'), ('prune-cron-history'), ('prune-webhook-inbox'),
            ('purge-deleted-projects'), ('trim-workspace-history') $$,
  'staff: every lifecycle job and the audit checkpoint are listed');
select is((select managed from ops.job_health() where name = 'audit-checkpoint'), false,
  'staff: a job scheduled outside ops.jobs shows as not managed here');
select ok((select count(*) > 0 from ops.applied_migrations() where version = '20261121140400')
          or to_regclass('supabase_migrations.schema_migrations') is null,
  'staff: reads the migration history');
select tests.clear_authentication();

select tests.authenticate_as(:'plain');
select throws_ok($$ select * from ops.job_health() $$, 'P0001', 'only staff can read operations data',
  'plain user: job health is refused (P0001, hint http:403)');
select throws_ok($$ select * from ops.applied_migrations() $$, 'P0001', 'only staff can read operations data',
  'plain user: the migration history is refused');
select throws_ok($$ select ops.purge_deleted_projects() $$, '42501', null, 'plain user: cannot run a job');
select throws_ok($$ select * from ops.jobs $$, '42501', null, 'plain user: cannot read the registry');
select tests.clear_authentication();

select tests.authenticate_as_anon();
select throws_ok($$ select * from ops.job_health() $$, '42501', null, 'anon: no access to ops at all');
select tests.clear_authentication();

select tests.authenticate_as_service_role();
select throws_ok($$ select ops.trim_workspace_history() $$, '42501', null, 'service role: cannot run a job');
select tests.clear_authentication();

-- The owner (operators in psql, pg_cron) may read it.
select ok((select count(*) >= 5 from ops.job_health()), 'owner: reads job health');

select * from finish();
rollback;
