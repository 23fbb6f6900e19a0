-- Rollback of 20261121130400_audit_jobs.sql. Unschedules the audit jobs; drops pg_cron only when
-- that migration created it (its comment says so) and no other job is left.
do $$
begin
  if to_regclass('cron.job') is not null then
    perform cron.unschedule(j.jobid) from cron.job j where j.jobname in ('audit-seal', 'audit-checkpoint');
    if not exists (select 1 from cron.job)
       and obj_description((select e.oid from pg_catalog.pg_extension e where e.extname = 'pg_cron'), 'pg_extension')
           like '%created by migration 20261121130400_audit_jobs%' then
      drop extension pg_cron;
    end if;
  end if;
end
$$;
