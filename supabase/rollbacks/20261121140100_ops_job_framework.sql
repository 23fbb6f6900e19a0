-- Rollback of 20261121140100_ops_job_framework.sql. Drops the job registry and helpers; jobs
-- scheduled through it are removed by the rollbacks of the migrations that declared them (run
-- those first). Destructive: nothing beyond the registry rows.
revoke usage on schema ops from authenticated;
drop function if exists ops.job_health();
drop function if exists ops.require_staff();
drop function if exists ops.skip_job(text);
drop function if exists ops.finish_job(text, timestamptz, jsonb);
drop function if exists ops.audit_job(text, text, jsonb);
drop function if exists ops.try_lock_job(text);
drop function if exists ops.unschedule_job(text);
drop function if exists ops.schedule_job(text, text, text, text);
drop table if exists ops.jobs;
