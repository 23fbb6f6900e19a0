-- Rollback of 20261202110100_ops_alerts: unschedules evaluate-alerts and verify-audit-chain and
-- drops the rules, alerts, outbox (unsent notifications are lost: send or note them first), the
-- chain status and their functions and settings. Audit entries about alerts stay (append-only).
select ops.unschedule_job('verify-audit-chain');
select ops.unschedule_job('evaluate-alerts');
select ops.unschedule_job('prune-alerts');
drop function if exists ops.prune_alerts();
drop function if exists ops.evaluate_alerts();
drop function if exists ops.run_alert_rule(ops.alert_rules);
drop function if exists ops.enqueue_alert_notification(ops.alerts, text);
drop table if exists ops.notification_outbox;
drop table if exists ops.alerts;
drop table if exists ops.alert_rules;
drop function if exists ops.validate_alert_rule();
drop function if exists ops.alert_rule_cost(text, interval);
drop function if exists ops.alert_rule_statement(text);
drop function if exists ops.cron_interval(text);
drop function if exists ops.verify_audit_chain();
drop table if exists ops.audit_chain_status;
delete from ops.settings where key in ('alert_rule_max_cost', 'alert_retention');
