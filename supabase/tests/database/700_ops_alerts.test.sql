-- Operations signals, alert rules and the notification outbox (migrations 20261202110000-110200):
-- signal counters and their fold into all-time totals; who may call what; alert rule queries
-- refused unless one plannable SELECT, run read-only under a cost guard, a failing rule recorded
-- without failing the run; open / dedup / resolve audited and enqueued once; the outbox's lease,
-- attempt fencing, backoff and dead letter; cron_interval; the dispatcher schedule refusing
-- without pg_net.
begin;
set search_path = public, extensions, tests;

select plan(50);

-- ---------------------------------------------------------------------------------------------
-- Structure, settings, jobs
-- ---------------------------------------------------------------------------------------------
select has_table('ops', 'webhook_deliveries', 'ops.webhook_deliveries exists');
select has_table('ops', 'http_requests', 'ops.http_requests exists');
select has_table('ops', 'alert_rules', 'ops.alert_rules exists');
select has_table('ops', 'alerts', 'ops.alerts exists');
select has_table('ops', 'notification_outbox', 'ops.notification_outbox exists');
select ok((select bool_and(c.relrowsecurity) from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'ops' and c.relname in ('webhook_deliveries', 'http_requests', 'alert_rules', 'alerts',
                                                       'notification_outbox', 'audit_chain_status')),
  'RLS is on for every new ops table');
select is(
  (select count(*)::int from information_schema.role_table_grants
    where table_schema = 'ops' and grantee in ('anon', 'authenticated', 'service_role')
      and table_name in ('webhook_deliveries', 'http_requests', 'alert_rules', 'alerts', 'notification_outbox',
                         'audit_chain_status')),
  0, 'no API role has any grant on them (rules are written by the owner only)');
select results_eq(
  $$ select key from ops.settings where key in ('signal_retention', 'alert_retention', 'alert_rule_max_cost',
       'notification_lease', 'notification_retry_base', 'notification_retry_max', 'notification_max_attempts')
      order by key $$,
  $$ values ('alert_retention'::text), ('alert_rule_max_cost'), ('notification_lease'), ('notification_max_attempts'),
            ('notification_retry_base'), ('notification_retry_max'), ('signal_retention') $$,
  'retention, cost guard and dispatch settings live in ops.settings');
select results_eq(
  $$ select jobname::text collate "default", schedule, command from cron.job
      where jobname in ('prune-signals', 'evaluate-alerts', 'verify-audit-chain', 'prune-alerts') order by jobname $$,
  $$ values ('evaluate-alerts'::text, '* * * * *'::text, 'select ops.evaluate_alerts()'::text),
            ('prune-alerts', '57 3 * * *', 'select ops.prune_alerts()'),
            ('prune-signals', '52 * * * *', 'select ops.prune_signals()'),
            ('verify-audit-chain', '43 * * * *', 'select ops.verify_audit_chain()') $$,
  'the four jobs are scheduled');
select is((select count(*)::int from ops.alert_rules), 10, 'ten default rules');

-- ---------------------------------------------------------------------------------------------
-- Signals: who may record them; monotonic through retention
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as('user_pgtapsig');
select throws_ok($$ select private.record_webhook_outcome('applied') $$, '42501', null,
  'a signed-in user cannot record a webhook outcome');
select throws_ok($$ select private.record_http_requests('[]'::jsonb) $$, '42501', null,
  'nor request counts');
reset role;
select tests.authenticate_as_service_role();
select is(private.record_webhook_outcome('rejected_signature'), 'rejected_signature', 'service_role records an outcome');
select is(private.record_http_requests(jsonb_build_array(
  jsonb_build_object('bucket', now(), 'function_name', 'pgtap', 'status_class', '5xx', 'requests', 3),
  jsonb_build_object('bucket', now() - interval '10 years', 'function_name', 'pgtap', 'status_class', '5xx', 'requests', 2))),
  1, 'service_role records request counts; a bucket far in the past is clamped to now');
select throws_ok($$ select private.record_http_requests(jsonb_build_array(
    jsonb_build_object('bucket', now(), 'function_name', 'pgtap', 'status_class', '418', 'requests', 1))) $$,
  '23514', null, 'an unknown status class is refused');
reset role;
select is((select requests::int from ops.http_requests where function_name = 'pgtap' and status_class = '5xx'), 5,
  'both counts landed in the current minute');

insert into ops.http_requests (bucket, function_name, status_class, requests)
values (date_trunc('minute', now()) - interval '30 days', 'pgtap', '5xx', 7);
insert into ops.webhook_deliveries (bucket, outcome, shard, deliveries)
values (date_trunc('minute', now()) - interval '30 days', 'pgtap_fold', 1, 3),
       (date_trunc('minute', now()) - interval '30 days', 'pgtap_fold', 2, 4);
select is((ops.prune_signals() ->> 'http_buckets')::int >= 1, true, 'prune-signals folds expired buckets');
select results_eq(
  $$ select bucket, requests::int from ops.http_requests where function_name = 'pgtap' order by bucket $$,
  $$ values ('-infinity'::timestamptz, 7), (date_trunc('minute', now()), 5) $$,
  'into bucket -infinity: the all-time sum (the counter) is unchanged');
select results_eq(
  $$ select bucket, shard::int, deliveries::int from ops.webhook_deliveries where outcome = 'pgtap_fold' $$,
  $$ values ('-infinity'::timestamptz, 0, 7) $$,
  'webhook shards fold into one all-time row per outcome');

-- ---------------------------------------------------------------------------------------------
-- Rule queries: one plannable SELECT, run read-only, under the cost guard
-- ---------------------------------------------------------------------------------------------
prepare rule_insert(text) as
  insert into ops.alert_rules (name, description, severity, query, threshold, time_window, runbook)
  values ('pgtap_rule', 'test rule', 'info', $1, 1, '5 minutes', 'pgtap');
select throws_ok($$ execute rule_insert('select 1 as key, 1 as value; delete from ops.alerts') $$, '22023', null,
  'a rule with a second statement is refused');
select throws_ok($$ execute rule_insert('delete from ops.alerts returning 1 as key, 1 as value') $$, '22023', null,
  'a rule that is not a SELECT is refused');
select throws_ok($$ execute rule_insert('with d as (delete from ops.alerts returning 1) select 1 as key, 1 as value from d') $$,
  '0A000', null, 'a data-modifying CTE cannot run inside the wrapper');
select throws_ok($$ execute rule_insert('select key, value from ops.no_such_table') $$, '42P01', null,
  'a rule that does not plan is refused');
select lives_ok($$ execute rule_insert(
  'select h.status_class as key, sum(h.requests) as value from ops.http_requests h where h.function_name = ''pgtap-rule'' and h.bucket >= now() - $1 group by h.status_class') $$,
  'a plannable SELECT over the signals is accepted');

-- A rule that writes (through a definer function) fails read-only; the run goes on.
insert into ops.alert_rules (name, description, severity, query, threshold, time_window, runbook)
values ('pgtap_writer', 'writes', 'info', $q$select 'k' as key, audit.append('pgtap.write')::numeric as value$q$, 1,
        '1 minute', 'pgtap');
-- Only the rules under test: the default ones would see the state of the test database.
update ops.alert_rules set enabled = false where name not like 'pgtap%';
select is((ops.evaluate_alerts() ->> 'failed_rules')::int, 1, 'the writing rule fails, the run completes');
select matches((select last_error from ops.alert_rules where name = 'pgtap_writer'), '^25006',
  'its error is recorded: read-only transaction');
select is((select count(*)::int from audit.log where action = 'pgtap.write'), 0, 'and nothing was written');
delete from ops.alert_rules where name = 'pgtap_writer';

update ops.settings set value = '1' where key = 'alert_rule_max_cost';
select is((ops.evaluate_alerts() ->> 'failed_rules')::int, 1, 'over the cost guard the rule does not run');
select matches((select last_error from ops.alert_rules where name = 'pgtap_rule'), '^planned cost',
  'and says why');
update ops.settings set value = '100000' where key = 'alert_rule_max_cost';

-- ---------------------------------------------------------------------------------------------
-- Open, dedup, resolve: audited and enqueued once each
-- ---------------------------------------------------------------------------------------------
insert into ops.http_requests (bucket, function_name, status_class, requests)
values (date_trunc('minute', now()), 'pgtap-rule', '5xx', 4);
select is((ops.evaluate_alerts() ->> 'opened')::int, 1, 'the rule fires: one alert opens');
select is((ops.evaluate_alerts() ->> 'still_open')::int, 1, 'the next run keeps it open (dedup)');
select results_eq(
  $$ select a.status, a.value::int, (select count(*)::int from ops.notification_outbox o where o.alert_id = a.id)
       from ops.alerts a where a.rule = 'pgtap_rule' $$,
  $$ values ('open'::text, 4, 1) $$,
  'one open alert with the latest value and one notification');
delete from ops.http_requests where function_name = 'pgtap-rule';
select is((ops.evaluate_alerts() ->> 'resolved')::int, 1, 'the condition clears: the alert resolves');
select results_eq(
  $$ select l.action::text collate "default" from audit.log l
      where l.target_schema = 'ops' and l.target_table = 'alerts'
        and l.target_id = (select a.id::text from ops.alerts a where a.rule = 'pgtap_rule')
      order by l.id $$,
  $$ values ('alert.opened'::text), ('alert.resolved') $$,
  'opening and resolving are audited');

-- ---------------------------------------------------------------------------------------------
-- Outbox: lease, fencing, backoff, dead letter
-- ---------------------------------------------------------------------------------------------
-- Only this test's notifications are due.
update ops.notification_outbox o set next_attempt_at = now() + interval '1 day'
 where o.alert_id <> (select a.id from ops.alerts a where a.rule = 'pgtap_rule');
create temp table claimed as select * from private.claim_notifications(10);
select results_eq($$ select count(*)::int, min(attempt) from claimed $$, $$ values (2, 1) $$,
  'both notifications (opened, resolved) are claimed, attempt 1');
select is((select count(*)::int from private.claim_notifications(10)), 0, 'a leased row is not claimed twice');
select is(private.finish_notification((select id from claimed order by id limit 1), 1, false, 500, 'http 500'), 'pending',
  'a failed send goes back to pending');
select ok((select next_attempt_at between now() + interval '29 seconds' and now() + interval '31 seconds'
             from ops.notification_outbox where id = (select id from claimed order by id limit 1)),
  'after notification_retry_base (30 s) on the first failure');
-- The second row's sender dies: its lease expires and another claim takes it (attempt 2).
update ops.notification_outbox set lease_until = now() - interval '1 second'
 where id = (select id from claimed order by id desc limit 1);
select is((select attempt from private.claim_notifications(10)), 2, 'an expired lease is claimed again');
select is(private.finish_notification((select id from claimed order by id desc limit 1), 1, true, 200), null,
  'the dead sender''s late outcome is fenced off');
select is(private.finish_notification((select id from claimed order by id desc limit 1), 2, true, 200), 'sent',
  'the current attempt''s outcome is recorded');
update ops.settings set value = '1' where key = 'notification_max_attempts';
update ops.notification_outbox set next_attempt_at = now() where id = (select id from claimed order by id limit 1);
select is(private.finish_notification((select id from claimed order by id limit 1),
  (select attempt from private.claim_notifications(10)), false, 503, 'http 503'), 'dead',
  'past notification_max_attempts it is dead (and audited)');

-- ---------------------------------------------------------------------------------------------
-- Schedules, metrics readers, the pg_net wake-up
-- ---------------------------------------------------------------------------------------------
select results_eq(
  $$ select ops.cron_interval(s) from unnest(array['* * * * *', '*/5 * * * *', '52 * * * *', '5 0 * * *',
       '0 */6 * * *', '0 3 * * 1', '30 seconds', '0 0 1 * *']) as s $$,
  $$ values (interval '1 minute'), (interval '5 minutes'), (interval '1 hour'), (interval '1 day'),
            (interval '6 hours'), (interval '7 days'), (interval '30 seconds'), (interval '1 day') $$,
  'cron_interval: the nominal interval of each schedule shape (anything else: 1 day)');

select tests.create_user('opsmetrics', 'support') as metrics_staff \gset
select tests.create_user('opsmetricsuser') as metrics_user \gset
select tests.authenticate_as(:'metrics_staff');
select ok((select count(*) from ops.metrics()) > 0, 'staff read the metrics');
select ok((select count(*) from ops.list_alerts()) >= 1, 'and the alerts');
reset role;
select tests.authenticate_as(:'metrics_user');
select throws_ok($$ select * from ops.metrics() $$, 'P0001', null, 'a plain user cannot read the metrics');
select throws_ok($$ select * from ops.list_alerts() $$, 'P0001', null, 'nor the alerts');
reset role;
select tests.authenticate_as_service_role();
select ok((select count(*) from ops.metrics()) > 0, 'automation (the scrape token path) reads the metrics');
select throws_ok($$ select * from ops.alerts $$, '42501', null, 'but no ops table directly');
reset role;

select throws_ok(
  $$ select ops.schedule_alerts_dispatcher('https://example.supabase.co/functions/v1/admin/alerts/dispatch') $$,
  '0A000', null, 'the pg_net wake-up refuses until pg_net and the Vault secret exist');

select * from finish();
rollback;
