-- Rollback of 20261202110200_ops_metrics_and_dispatch: unschedules the dispatcher wake-up (when it
-- was scheduled) and drops the metrics reader, the dispatcher's claim/outcome functions and their
-- settings. The outbox itself belongs to 20261202110100.
select ops.unschedule_job('alerts-dispatcher');
drop function if exists ops.schedule_alerts_dispatcher(text);
drop function if exists ops.alerts_dispatcher_command(text);
drop function if exists private.finish_notification(bigint, integer, boolean, integer, text);
drop function if exists private.claim_notifications(integer);
drop function if exists ops.list_alerts(integer);
drop function if exists ops.metrics();
revoke usage on schema ops from service_role;
delete from ops.settings
 where key in ('notification_lease', 'notification_retry_base', 'notification_retry_max', 'notification_max_attempts');
