-- Rollback of 20261121140300_lifecycle_jobs.sql: unschedules the five lifecycle jobs (pg_cron and
-- ops.jobs) and drops their bodies. Nothing is purged or trimmed any more until re-applied.
select ops.unschedule_job('prune-cron-history');
select ops.unschedule_job('mark-inactive-users');
select ops.unschedule_job('prune-webhook-inbox');
select ops.unschedule_job('trim-workspace-history');
select ops.unschedule_job('purge-deleted-projects');

drop function if exists ops.prune_cron_history(integer, integer);
drop function if exists ops.mark_inactive_users(integer, integer);
drop function if exists ops.prune_webhook_inbox(integer, integer);
drop function if exists ops.trim_workspace_history(integer, integer);
drop function if exists ops.purge_deleted_projects(integer, integer);
