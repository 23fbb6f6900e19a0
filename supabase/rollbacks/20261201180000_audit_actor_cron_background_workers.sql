-- Rollback of 20261201180000_audit_actor_cron_background_workers.sql: audit.current_actor() as
-- 20261121130000_audit_log.sql defined it (a pg_cron run recognised by application_name only).

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
    -- backend pid among the running jobs (a backward scan of the newest runs).
    if current_setting('application_name') = 'pg_cron' and to_regclass('cron.job_run_details') is not null then
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
