-- Rollback of 20261121150300_privacy_jobs.sql: unschedules the three DSAR jobs (pg_cron and
-- ops.jobs) and drops their bodies. Due erasures then wait, exports are no longer purged and
-- overdue requests are no longer flagged until re-applied.
select ops.unschedule_job('flag-overdue-dsars');
select ops.unschedule_job('purge-dsar-exports');
select ops.unschedule_job('run-due-erasures');

drop function if exists privacy.run_due_erasures(integer);
drop function if exists ops.flag_overdue_dsars();
drop function if exists ops.purge_dsar_exports(integer, integer);
drop function if exists ops.run_due_erasures(integer);
