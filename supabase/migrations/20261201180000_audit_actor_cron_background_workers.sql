-- audit.current_actor() names pg_cron jobs run in background workers too.
--
-- Purpose: with cron.use_background_workers = on (the local stack; an option on any pg_cron
-- install) a job runs in a background worker whose application_name is empty, so the first
-- definition (20261121130000_audit_log.sql), which recognised a run by application_name 'pg_cron'
-- alone, recorded such jobs' entries with actor 'postgres' instead of 'cron:<job name>'. The worker's
-- backend_type is 'pg_cron'; either sign now finds the run.
-- Objects: function audit.current_actor() (replaced, same signature and privileges).
-- Destructive: nothing.

create or replace function audit.current_actor(out db_role text, out actor text, out actor_kind text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  claims jsonb := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
  cron_job text;
begin
  db_role := current_setting('role');
  if db_role = 'none' then
    db_role := session_user;
  end if;

  if db_role = 'authenticated' then
    actor := claims ->> 'sub';
    actor_kind := case when private.is_staff() then 'staff' else 'user' end;
  elsif db_role = 'service_role' then
    actor := coalesce(nullif(claims ->> 'actor', ''), 'service_role');
    actor_kind := 'service';
  elsif db_role = 'anon' then
    actor := null;
    actor_kind := null;
  else
    -- Cron jobs, migrations, maintenance: name the automation. A pg_cron run is found by its
    -- backend pid among the running jobs (a backward scan of the newest runs). pg_cron runs a job
    -- either over libpq (application_name 'pg_cron') or, with cron.use_background_workers, in a
    -- background worker whose backend_type is 'pg_cron' and whose application_name is empty.
    if to_regclass('cron.job_run_details') is not null
       and (current_setting('application_name') = 'pg_cron'
            or (select a.backend_type from pg_catalog.pg_stat_activity a
                 where a.pid = pg_catalog.pg_backend_pid()) = 'pg_cron') then
      execute $q$
        select j.jobname
          from cron.job_run_details d join cron.job j on j.jobid = d.jobid
         where d.job_pid = pg_backend_pid() and d.status in ('starting', 'running')
         order by d.runid desc limit 1 $q$
      into cron_job;
    end if;
    actor := coalesce(
      nullif(claims ->> 'actor', ''),
      'cron:' || cron_job,
      nullif(current_setting('application_name'), ''),
      db_role
    );
    actor_kind := 'database';
  end if;
end;
$$;
comment on function audit.current_actor() is
  'The acting database role, actor and actor kind of the current statement, derived from the session (role setting, request.jwt.claims, pg_cron job).';
