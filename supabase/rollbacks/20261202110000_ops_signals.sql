-- Rollback of 20261202110000_ops_signals: unschedules prune-signals and drops the signal tables,
-- their functions and the signal_retention setting. The counts are lost (they are operational
-- signals, not records). Run after the rollbacks of the later ops migrations that read them.
select ops.unschedule_job('prune-signals');
drop function if exists ops.prune_signals();
drop function if exists private.record_http_requests(jsonb);
drop function if exists private.record_webhook_outcome(text, integer);
drop table if exists ops.http_requests;
drop table if exists ops.webhook_deliveries;
delete from ops.settings where key = 'signal_retention';
