-- Purpose: alert rules as data, evaluated by pg_cron, with a notification outbox
-- (docs/OPERATIONS.md "Alerts", docs/RUNBOOK.md "Alerts"):
--   * ops.audit_chain_status: the last result of the verify-audit-chain job (hourly audit.verify()),
--     so metrics and alerts read the chain's state without re-verifying on every scrape;
--   * ops.alert_rules: name, a query over the signals, threshold, time window, severity. The query
--     returns rows (key text, value numeric) given $1 = the rule's time window; every row whose
--     value >= threshold is a firing alert identified by (rule, key);
--   * ops.alerts: one row per firing episode; at most one open per (rule, key) (dedup while it
--     lasts); resolved when a later evaluation no longer returns the key. Opening and resolving
--     are audited (alert.opened, alert.resolved) and enqueue a notification in the same
--     transaction;
--   * ops.notification_outbox: one row per (alert, event), sent by the dispatcher (admin function,
--     POST /admin/alerts/dispatch) with lease, attempt fencing, exponential backoff and an
--     idempotency key (next migration);
--   * job evaluate-alerts (every minute) and verify-audit-chain (hourly).
-- Safety of rule queries (they are code stored as data): only the owner (migrations, operators in
-- psql) can write ops.alert_rules (no grant to any API role, no API route writes it); a trigger
-- refuses anything but one SELECT/WITH statement and test-plans it; the evaluator runs each query
-- wrapped in a subquery (no data-modifying CTE can run there), in a read-only subtransaction,
-- refuses a query whose planned cost exceeds alert_rule_max_cost, keeps at most 1000 rows, and
-- records a failing rule's error instead of failing the run. A SET of statement_timeout inside a
-- function does not bound the running statement (Postgres arms the timer per top-level
-- statement), which is why the cost guard exists; the job's total time shows in cron history.
-- Objects: tables ops.audit_chain_status, ops.alert_rules, ops.alerts, ops.notification_outbox
-- (+ RLS, no grants); functions ops.cron_interval(text), ops.verify_audit_chain(),
-- ops.validate_alert_rule(), ops.run_alert_rule(ops.alert_rules), ops.evaluate_alerts(),
-- ops.enqueue_alert_notification(ops.alerts, text), ops.prune_alerts(); settings
-- alert_rule_max_cost, alert_retention; default rules; jobs evaluate-alerts, verify-audit-chain,
-- prune-alerts.
-- Destructive: nothing.

-- ---------------------------------------------------------------------------------------------
-- Audit chain status
-- ---------------------------------------------------------------------------------------------
create table ops.audit_chain_status (
  singleton boolean primary key default true constraint audit_chain_status_singleton check (singleton),
  verified_at timestamptz not null,
  ok boolean not null,
  entries_checked bigint not null,
  first_bad_id bigint,
  problem text constraint audit_chain_status_problem_length check (char_length(problem) <= 500),
  unsealed bigint not null,
  duration_ms bigint not null
);
comment on table ops.audit_chain_status is
  'Result of the last full audit chain verification by job verify-audit-chain (one row). Read by GET /admin/metrics and the audit_chain_not_ok rule.';
alter table ops.audit_chain_status enable row level security;
revoke all on table ops.audit_chain_status from public, anon, authenticated, service_role;

create function ops.verify_audit_chain()
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  job constant text := 'verify-audit-chain';
  started timestamptz := clock_timestamp();
  result record;
begin
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;
  select * into strict result from audit.verify();
  insert into ops.audit_chain_status as s (singleton, verified_at, ok, entries_checked, first_bad_id, problem,
                                           unsealed, duration_ms)
  values (true, now(), result.ok, result.checked, result.first_bad_id, left(result.problem, 500), result.unsealed,
          round(extract(epoch from clock_timestamp() - started) * 1000)::bigint)
  on conflict (singleton) do update
    set verified_at = excluded.verified_at, ok = excluded.ok, entries_checked = excluded.entries_checked,
        first_bad_id = excluded.first_bad_id, problem = excluded.problem, unsealed = excluded.unsealed,
        duration_ms = excluded.duration_ms;
  return ops.finish_job(job, started, jsonb_build_object(
    'ok', result.ok, 'entries_checked', result.checked, 'first_bad_id', result.first_bad_id,
    'unsealed', result.unsealed));
end;
$$;
comment on function ops.verify_audit_chain() is
  'Job verify-audit-chain: audit.verify() of the whole chain, result kept in ops.audit_chain_status. Returns the audited result.';

-- ---------------------------------------------------------------------------------------------
-- The interval of a cron schedule, for "not succeeding for twice its interval"
-- ---------------------------------------------------------------------------------------------
-- pg_cron schedules are five-field cron or '<n> seconds'. The common shapes map exactly; anything
-- else counts as daily (the longest of the shapes used here), so the rule errs late, never noisy.
create function ops.cron_interval(schedule text)
returns interval
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  fields text[] := regexp_split_to_array(btrim(coalesce(schedule, '')), '\s+');
begin
  if schedule ~ '^\s*[0-9]+\s+seconds?\s*$' then
    return make_interval(secs => (regexp_match(schedule, '[0-9]+'))[1]::int);
  end if;
  if cardinality(fields) <> 5 then
    return interval '1 day';
  end if;
  if fields[2] = '*' and fields[3] = '*' and fields[4] = '*' and fields[5] = '*' then
    if fields[1] = '*' then
      return interval '1 minute';
    elsif fields[1] ~ '^\*/[0-9]+$' then
      return make_interval(mins => split_part(fields[1], '/', 2)::int);
    elsif fields[1] ~ '^[0-9]+$' then
      return interval '1 hour';
    end if;
  end if;
  if fields[1] ~ '^[0-9]+$' and fields[3] = '*' and fields[4] = '*' then
    if fields[2] ~ '^\*/[0-9]+$' and fields[5] = '*' then
      return make_interval(hours => split_part(fields[2], '/', 2)::int);
    elsif fields[2] ~ '^[0-9]+$' and fields[5] = '*' then
      return interval '1 day';
    elsif fields[2] ~ '^[0-9]+$' and fields[5] ~ '^[0-9]$' then
      return interval '7 days';
    end if;
  end if;
  return interval '1 day';
end;
$$;
comment on function ops.cron_interval(text) is
  'Nominal interval of a pg_cron schedule (n seconds, every minute, */n minutes, hourly, */n hours, daily, weekly); any other shape counts as 1 day.';

-- ---------------------------------------------------------------------------------------------
-- Rules
-- ---------------------------------------------------------------------------------------------
create table ops.alert_rules (
  name text primary key constraint alert_rules_name_shape check (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  description text not null
    constraint alert_rules_description_length check (char_length(description) between 1 and 500),
  severity text not null constraint alert_rules_severity_known check (severity in ('critical', 'warning', 'info')),
  query text not null constraint alert_rules_query_length check (char_length(query) between 1 and 4000),
  threshold numeric not null,
  time_window interval not null constraint alert_rules_time_window_positive check (time_window > interval '0'),
  enabled boolean not null default true,
  runbook text not null constraint alert_rules_runbook_shape check (runbook ~ '^[a-z0-9-]{1,100}$'),
  last_evaluated_at timestamptz,
  last_error text constraint alert_rules_last_error_length check (char_length(last_error) <= 500),
  updated_at timestamptz not null default now()
);
comment on table ops.alert_rules is
  'Alert rules evaluated every minute by evaluate-alerts. Written only by migrations and operators (owner); no API role can read or write it.';
comment on column ops.alert_rules.query is
  'One SELECT (or WITH ... SELECT) returning columns key (text: a job name, a request id, ''all''; never personal data) and value (numeric), given $1 = time_window. Each row with value >= threshold fires.';
comment on column ops.alert_rules.threshold is 'A row fires when value >= threshold.';
comment on column ops.alert_rules.time_window is 'Passed to the query as $1: how far back it looks (rates), or how long a condition must hold.';
comment on column ops.alert_rules.runbook is 'Anchor of the rule''s section in docs/RUNBOOK.md (#alert-<runbook>).';
comment on column ops.alert_rules.last_error is 'SQLSTATE and message of the last failed evaluation; null when the last one succeeded.';

create trigger alert_rules_set_updated_at
  before update on ops.alert_rules
  for each row execute function private.set_updated_at();

insert into ops.settings (key, value, value_type, minimum, description) values
  ('alert_rule_max_cost', '100000', 'integer', '1',
   'An alert rule whose planned cost (EXPLAIN total cost) exceeds this is not run: its last_error says so. The guard against a rule query that would scan unbounded data every minute.'),
  ('alert_retention', '90 days', 'interval', '1 day',
   'Resolved alerts and their sent or dead notifications are kept this long, then prune-alerts deletes them.');

-- The wrapped form every rule query runs in: a subquery (so no data-modifying statement), typed
-- columns, at most 1000 rows.
create function ops.alert_rule_statement(query text)
returns text
language sql
immutable
security invoker
set search_path = ''
as $$
  select format('select q.key::text as key, q.value::numeric as value from (%s) q where q.value is not null limit 1000',
                query)
$$;
comment on function ops.alert_rule_statement(text) is
  'The statement an alert rule query runs as: wrapped in a subquery, typed (key text, value numeric), at most 1000 rows.';

-- Planned cost of a rule, in a read-only subtransaction (also proves the query parses and plans).
create function ops.alert_rule_cost(query text, time_window interval)
returns numeric
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  plan jsonb;
begin
  if query ~ ';' then
    raise exception 'an alert rule query is one statement without ";"' using errcode = '22023';
  end if;
  if query !~* '^\s*(select|with)\s' then
    raise exception 'an alert rule query starts with SELECT or WITH' using errcode = '22023';
  end if;
  begin
    perform pg_catalog.set_config('transaction_read_only', 'on', true);
    execute 'explain (format json) ' || ops.alert_rule_statement(query) into plan using time_window;
    raise sqlstate 'P0R01';
  exception when sqlstate 'P0R01' then
    null; -- the subtransaction is rolled back on purpose: read-only ends with it
  end;
  return (plan -> 0 -> 'Plan' ->> 'Total Cost')::numeric;
end;
$$;
comment on function ops.alert_rule_cost(text, interval) is
  'Checks an alert rule query (one SELECT/WITH, no ";"), plans it read-only and returns its planned total cost.';

create function ops.validate_alert_rule()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  -- Raises 22023 or the planner's own error (42P01, 42703, ...) for a query that cannot run.
  perform ops.alert_rule_cost(new.query, new.time_window);
  return new;
end;
$$;
comment on function ops.validate_alert_rule() is
  'BEFORE INSERT/UPDATE trigger on ops.alert_rules: the query must be one SELECT/WITH statement that plans (22023 or the planner error otherwise).';

create trigger alert_rules_validate
  before insert or update of query, time_window on ops.alert_rules
  for each row execute function ops.validate_alert_rule();

alter table ops.alert_rules enable row level security;
revoke all on table ops.alert_rules from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Alerts and the outbox
-- ---------------------------------------------------------------------------------------------
create table ops.alerts (
  id bigint generated always as identity primary key,
  rule text not null references ops.alert_rules (name) on update cascade on delete cascade,
  key text not null constraint alerts_key_length check (char_length(key) between 1 and 200),
  severity text not null constraint alerts_severity_known check (severity in ('critical', 'warning', 'info')),
  status text not null default 'open' constraint alerts_status_known check (status in ('open', 'resolved')),
  value numeric not null,
  threshold numeric not null,
  opened_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  resolved_at timestamptz,
  constraint alerts_resolved_together check ((status = 'resolved') = (resolved_at is not null))
);
comment on table ops.alerts is
  'Alert episodes: opened when a rule returns a key at or above its threshold, kept open (deduplicated) while it keeps returning it, resolved when it stops.';
comment on column ops.alerts.key is 'What fired, as the rule names it: a job name, a DSAR request id, ''all''. Never personal data.';
comment on column ops.alerts.value is 'The value of the last evaluation that returned the key.';
-- Dedup: one open alert per rule and key.
create unique index alerts_one_open_idx on ops.alerts (rule, key) where status = 'open';
create index alerts_resolved_at_idx on ops.alerts (resolved_at) where status = 'resolved';

alter table ops.alerts enable row level security;
revoke all on table ops.alerts from public, anon, authenticated, service_role;

create table ops.notification_outbox (
  id bigint generated always as identity primary key,
  alert_id bigint not null references ops.alerts (id) on delete cascade,
  event text not null constraint notification_outbox_event_known check (event in ('opened', 'resolved')),
  idempotency_key text not null constraint notification_outbox_idempotency_key_key unique,
  payload jsonb not null constraint notification_outbox_payload_object check (jsonb_typeof(payload) = 'object'),
  status text not null default 'pending'
    constraint notification_outbox_status_known check (status in ('pending', 'sending', 'sent', 'dead')),
  attempts integer not null default 0 constraint notification_outbox_attempts_nonnegative check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  lease_until timestamptz,
  last_status integer,
  last_error text constraint notification_outbox_last_error_length check (char_length(last_error) <= 200),
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  -- Enqueued exactly once per alert and event.
  constraint notification_outbox_alert_event_key unique (alert_id, event),
  constraint notification_outbox_sent_has_time check ((status = 'sent') = (sent_at is not null)),
  constraint notification_outbox_sending_has_lease check (status <> 'sending' or lease_until is not null)
);
comment on table ops.notification_outbox is
  'Alert notifications to send (opened, resolved), one per alert and event, written in the transaction that opens or resolves the alert. The dispatcher claims rows with a lease (FOR UPDATE SKIP LOCKED), sends them with the idempotency key, and records the outcome fenced by the attempt number.';
comment on column ops.notification_outbox.idempotency_key is 'Sent as the Idempotency-Key header (and in the body): the same key on every retry of this notification.';
comment on column ops.notification_outbox.attempts is 'Claims so far; the attempt number fences the outcome (a sender whose lease expired cannot overwrite a later one).';
comment on column ops.notification_outbox.lease_until is 'While sending: the claim expires then, and another dispatcher may take the row again (the previous sender died).';
comment on column ops.notification_outbox.last_error is 'Last failure: HTTP status or error class, never a response body.';
create index notification_outbox_due_idx on ops.notification_outbox (next_attempt_at) where status = 'pending';
create index notification_outbox_lease_idx on ops.notification_outbox (lease_until) where status = 'sending';
create index notification_outbox_alert_id_idx on ops.notification_outbox (alert_id);

alter table ops.notification_outbox enable row level security;
revoke all on table ops.notification_outbox from public, anon, authenticated, service_role;

-- The body both notification formats are rendered from (the dispatcher), fixed at enqueue time.
create function ops.enqueue_alert_notification(alert ops.alerts, event text)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
#variable_conflict use_column
declare
  rule_row ops.alert_rules;
begin
  select * into strict rule_row from ops.alert_rules r where r.name = alert.rule;
  insert into ops.notification_outbox (alert_id, event, idempotency_key, payload)
  values (alert.id, enqueue_alert_notification.event,
          format('alert-%s-%s', alert.id, enqueue_alert_notification.event), jsonb_build_object(
    'alert_id', alert.id,
    'event', enqueue_alert_notification.event,
    'rule', alert.rule,
    'key', alert.key,
    'severity', alert.severity,
    'status', alert.status,
    'value', alert.value,
    'threshold', alert.threshold,
    'description', rule_row.description,
    'runbook', rule_row.runbook,
    'opened_at', alert.opened_at,
    'resolved_at', alert.resolved_at))
  on conflict (alert_id, event) do nothing;
end;
$$;
comment on function ops.enqueue_alert_notification(ops.alerts, text) is
  'Adds the notification of an alert event (opened | resolved) to ops.notification_outbox, once per alert and event.';

-- ---------------------------------------------------------------------------------------------
-- Evaluation
-- ---------------------------------------------------------------------------------------------
-- One rule: its firing rows, or an error. Read-only subtransaction; rolled back on purpose so the
-- read-only setting ends with it (variables keep what was read).
create function ops.run_alert_rule(rule ops.alert_rules, out firing jsonb, out error text)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  cost numeric;
  max_cost integer := ops.setting_int('alert_rule_max_cost');
begin
  begin
    cost := ops.alert_rule_cost(rule.query, rule.time_window);
    if cost > max_cost then
      error := format('planned cost %s exceeds alert_rule_max_cost %s', round(cost), max_cost);
      return;
    end if;
    perform pg_catalog.set_config('transaction_read_only', 'on', true);
    execute format('select coalesce(jsonb_agg(jsonb_build_object(''key'', r.key, ''value'', r.value)), ''[]'') from (%s) r where r.value >= $2',
                   ops.alert_rule_statement(rule.query))
      into firing using rule.time_window, rule.threshold;
    raise sqlstate 'P0R01';
  exception
    when sqlstate 'P0R01' then
      null;
    when others then
      firing := null;
      error := left(sqlstate || ': ' || sqlerrm, 500);
  end;
end;
$$;
comment on function ops.run_alert_rule(ops.alert_rules) is
  'Runs one alert rule read-only under the cost guard: firing = [{key, value}] at or above the threshold, or error (SQLSTATE: message).';

create function ops.evaluate_alerts()
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  job constant text := 'evaluate-alerts';
  started timestamptz := clock_timestamp();
  rule ops.alert_rules;
  outcome record;
  hit record;
  alert ops.alerts;
  opened integer := 0;
  resolved integer := 0;
  still_open integer := 0;
  failed_rules integer := 0;
  result jsonb;
begin
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;

  for rule in select * from ops.alert_rules r order by r.name loop
    if not rule.enabled then
      -- A disabled rule's open alerts end: nobody evaluates them any more.
      for alert in
        update ops.alerts a set status = 'resolved', resolved_at = now()
         where a.rule = rule.name and a.status = 'open' returning a.*
      loop
        resolved := resolved + 1;
        perform audit.append('alert.resolved', 'ops', 'alerts', alert.id::text,
          jsonb_build_object('rule', alert.rule, 'key', alert.key, 'reason', 'rule disabled'));
        perform ops.enqueue_alert_notification(alert, 'resolved');
      end loop;
      continue;
    end if;

    outcome := ops.run_alert_rule(rule);
    update ops.alert_rules r set last_evaluated_at = now(), last_error = outcome.error
     where r.name = rule.name;
    if outcome.error is not null then
      -- Unknown state: open alerts stay open, nothing new opens.
      failed_rules := failed_rules + 1;
      raise warning 'alert rule % failed: %', rule.name, outcome.error;
      continue;
    end if;

    for hit in select f.key, f.value from jsonb_to_recordset(outcome.firing) as f(key text, value numeric) loop
      update ops.alerts a set value = hit.value, last_seen_at = now()
       where a.rule = rule.name and a.key = left(hit.key, 200) and a.status = 'open';
      if found then
        still_open := still_open + 1;
        continue;
      end if;
      insert into ops.alerts (rule, key, severity, value, threshold)
      values (rule.name, left(hit.key, 200), rule.severity, hit.value, rule.threshold)
      returning * into alert;
      opened := opened + 1;
      perform audit.append('alert.opened', 'ops', 'alerts', alert.id::text,
        jsonb_build_object('rule', alert.rule, 'key', alert.key, 'severity', alert.severity,
                           'value', alert.value, 'threshold', alert.threshold));
      perform ops.enqueue_alert_notification(alert, 'opened');
    end loop;

    for alert in
      update ops.alerts a set status = 'resolved', resolved_at = now()
       where a.rule = rule.name and a.status = 'open'
         and not exists (select 1 from jsonb_to_recordset(outcome.firing) as f(key text, value numeric)
                          where left(f.key, 200) = a.key)
      returning a.*
    loop
      resolved := resolved + 1;
      perform audit.append('alert.resolved', 'ops', 'alerts', alert.id::text,
        jsonb_build_object('rule', alert.rule, 'key', alert.key, 'last_value', alert.value));
      perform ops.enqueue_alert_notification(alert, 'resolved');
    end loop;
  end loop;

  result := jsonb_build_object('opened', opened, 'resolved', resolved, 'still_open', still_open,
                               'failed_rules', failed_rules);
  -- Audited (job.completed) only when something changed or a rule failed: the job runs every
  -- minute, and the alert entries themselves are audited above.
  if opened + resolved + failed_rules > 0 then
    return ops.finish_job(job, started, result);
  end if;
  return jsonb_build_object('job', job, 'status', 'completed',
    'duration_ms', round(extract(epoch from clock_timestamp() - started) * 1000)::bigint) || result;
end;
$$;
comment on function ops.evaluate_alerts() is
  'Job evaluate-alerts: runs every enabled rule (ops.run_alert_rule), opens an alert per new (rule, key) at or above the threshold, keeps open ones open, resolves the ones no longer returned; each change audited and enqueued for notification. Returns the counts (audited when anything changed).';

-- Job prune-alerts: resolved alerts (and, by cascade, their notifications) past alert_retention;
-- notifications that died long ago go with their alert. Open alerts are never pruned.
create function ops.prune_alerts()
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  job constant text := 'prune-alerts';
  started timestamptz := clock_timestamp();
  cutoff timestamptz;
  deleted bigint;
begin
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;
  cutoff := now() - ops.setting_interval('alert_retention');
  delete from ops.alerts a
   where a.id = any (array(
     select a2.id from ops.alerts a2
      where a2.status = 'resolved' and a2.resolved_at < cutoff
        and not exists (select 1 from ops.notification_outbox o
                         where o.alert_id = a2.id and o.status in ('pending', 'sending'))
      order by a2.resolved_at
      limit ops.setting_int('cleanup_batch_size')
        for update skip locked));
  get diagnostics deleted = row_count;
  return ops.finish_job(job, started, jsonb_build_object('alerts', deleted, 'cutoff', cutoff));
end;
$$;
comment on function ops.prune_alerts() is
  'Job prune-alerts: deletes resolved alerts older than alert_retention whose notifications are no longer pending (with those notifications), one batch of cleanup_batch_size. Returns the audited counts.';

revoke all on function ops.verify_audit_chain(), ops.prune_alerts(), ops.cron_interval(text), ops.alert_rule_statement(text),
  ops.alert_rule_cost(text, interval), ops.validate_alert_rule(), ops.enqueue_alert_notification(ops.alerts, text),
  ops.run_alert_rule(ops.alert_rules), ops.evaluate_alerts()
  from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Default rules (docs/RUNBOOK.md, "Alerts"; change thresholds and windows with an UPDATE)
-- ---------------------------------------------------------------------------------------------
insert into ops.alert_rules (name, severity, threshold, time_window, runbook, description, query) values
  ('webhook_rejections', 'warning', 10, '15 minutes', 'webhook-rejections',
   'Clerk webhook deliveries rejected (bad signature, bad payload) or failed in the window reached the threshold.',
   $q$select 'all' as key, coalesce(sum(w.deliveries), 0) as value
        from ops.webhook_deliveries w
       where w.outcome in ('rejected_signature', 'rejected_payload', 'failed') and w.bucket >= now() - $1$q$),
  ('webhook_silence', 'warning', 1, '6 hours', 'webhook-silence',
   'No Clerk webhook delivery at all in the window although users were signing in (successful API requests).',
   $q$select 'all' as key, 1 as value
       where not exists (select 1 from ops.webhook_deliveries w where w.bucket >= now() - $1)
         and exists (select 1 from ops.http_requests h
                      where h.status_class = '2xx' and h.function_name = 'api' and h.bucket >= now() - $1)$q$),
  ('job_failing', 'warning', 2, '1 day', 'job-failing',
   'A cron job''s latest runs failed (value: consecutive failed runs, newest first, within the window).',
   $q$select j.jobname::text as key, count(*) as value
        from cron.job j
        join lateral (select d.status, d.start_time from cron.job_run_details d
                       where d.jobid = j.jobid and d.status in ('succeeded', 'failed')
                       order by d.runid desc limit 10) r on true
       where r.start_time >= now() - $1
         and r.status = 'failed'
         and not exists (select 1 from cron.job_run_details s
                          where s.jobid = j.jobid and s.status = 'succeeded' and s.start_time > r.start_time)
       group by j.jobname$q$),
  ('job_not_succeeding', 'warning', 2, '1 minute', 'job-not-succeeding',
   'An active cron job has not succeeded for at least threshold times its schedule''s interval (value: elapsed / interval).',
   $q$select j.jobname::text as key,
             extract(epoch from now() - coalesce(last_ok.at, declared.at, now()))
               / extract(epoch from ops.cron_interval(j.schedule)) as value
        from cron.job j
        left join lateral (select max(d.start_time) as at from cron.job_run_details d
                            where d.jobid = j.jobid and d.status = 'succeeded') last_ok on true
        left join lateral (select o.declared_at as at from ops.jobs o
                            where o.name = j.jobname::text collate "default") declared on true
       where j.active and j.jobname is not null$q$),
  ('dsar_due_soon', 'warning', 1, '3 days', 'dsar-due-soon',
   'A data-subject request is still open within the window (3 days) of its legal due date.',
   $q$select r.id::text as key, 1 as value
        from privacy.requests r
       where r.status not in ('completed', 'cancelled') and r.due_at >= now() and r.due_at <= now() + $1$q$),
  ('dsar_overdue', 'critical', 1, '1 minute', 'dsar-overdue',
   'A data-subject request is past its legal due date and not completed.',
   $q$select r.id::text as key, 1 as value
        from privacy.requests r
       where r.status not in ('completed', 'cancelled') and r.due_at < now()$q$),
  ('dsar_failed', 'critical', 1, '1 minute', 'dsar-failed',
   'A data-subject request failed (an erasure that errored; retried while attempts remain).',
   $q$select r.id::text as key, r.attempts as value
        from privacy.requests r
       where r.status = 'failed'$q$),
  ('audit_chain_not_ok', 'critical', 1, '1 minute', 'audit-chain-not-ok',
   'The last audit chain verification (job verify-audit-chain) found a broken link.',
   $q$select 'audit.log' as key, 1 as value from ops.audit_chain_status s where not s.ok$q$),
  ('clerk_deletion_pending', 'warning', 1, '1 day', 'clerk-deletion-pending',
   'An erasure completed more than the window ago but the user is not yet deleted at Clerk.',
   $q$select r.id::text as key, 1 as value
        from privacy.requests r
       where r.clerk_delete_required and r.clerk_deleted_at is null and r.status = 'completed'
         and r.completed_at < now() - $1$q$),
  ('http_5xx', 'critical', 20, '5 minutes', 'http-5xx',
   'Edge Function answers with a 5xx status in the window reached the threshold (value: count).',
   $q$select h.function_name as key, sum(h.requests) as value
        from ops.http_requests h
       where h.status_class = '5xx' and h.bucket >= now() - $1
       group by h.function_name$q$);

select ops.schedule_job('evaluate-alerts', '* * * * *', 'select ops.evaluate_alerts()',
  'Evaluates the alert rules (ops.alert_rules): opens, keeps and resolves alerts, enqueues their notifications.');
select ops.schedule_job('prune-alerts', '57 3 * * *', 'select ops.prune_alerts()',
  'Deletes resolved alerts (and their sent notifications) older than alert_retention.');
select ops.schedule_job('verify-audit-chain', '43 * * * *', 'select ops.verify_audit_chain()',
  'Verifies the whole audit chain and keeps the result in ops.audit_chain_status (metrics, audit_chain_not_ok alert).');
