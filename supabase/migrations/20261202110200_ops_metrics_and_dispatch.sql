-- Purpose: what the admin function reads and writes for operations (docs/OPERATIONS.md):
--   * ops.metrics(): every metric sample of GET /admin/metrics as (metric, labels, value) rows, in
--     one call (staff, automation and the owner only: ops.require_staff). The admin function maps
--     metric names to HELP/TYPE in one list (admin/routes/metrics.ts); labels are low-cardinality
--     (outcome, function, status class, job name, kind, severity, state), never ids or people;
--   * the notification dispatcher's claim and outcome (POST /admin/alerts/dispatch, as
--     service_role): private.claim_notifications() takes due rows FOR UPDATE SKIP LOCKED under a
--     lease and counts the attempt; private.finish_notification() records the outcome only for
--     the attempt that still holds the lease (fencing), with exponential backoff on failure and
--     `dead` after notification_max_attempts (audited);
--   * the production wake-up of the dispatcher: pg_cron -> pg_net -> the admin function every
--     minute, with the secret read from Vault at run time (as 20261201100400 does for the privacy
--     runner): ops.alerts_dispatcher_command(text), ops.schedule_alerts_dispatcher(text).
-- Objects: functions ops.metrics(), ops.list_alerts(integer), private.claim_notifications(integer),
-- private.finish_notification(bigint, integer, boolean, integer, text),
-- ops.alerts_dispatcher_command(text), ops.schedule_alerts_dispatcher(text); settings
-- notification_lease, notification_retry_base, notification_retry_max, notification_max_attempts.
-- Destructive: nothing.

insert into ops.settings (key, value, value_type, minimum, description) values
  ('notification_lease', '2 minutes', 'interval', '10 seconds',
   'A claimed notification is another dispatcher''s to retry after this long without an outcome (the sender died). Longer than the send timeout.'),
  ('notification_retry_base', '30 seconds', 'interval', '1 second',
   'Backoff after the first failed send of a notification; doubled after each further failure.'),
  ('notification_retry_max', '1 hour', 'interval', '1 second',
   'Longest backoff between two sends of a notification.'),
  ('notification_max_attempts', '12', 'integer', '1',
   'A notification is given up (dead, audited, counted in metrics) after this many failed sends.');

-- ---------------------------------------------------------------------------------------------
-- Metrics
-- ---------------------------------------------------------------------------------------------
create function ops.metrics()
returns table (metric text, labels jsonb, value double precision)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform ops.require_staff();

  return query
    select 'webhook_deliveries_total', jsonb_build_object('outcome', w.outcome), sum(w.deliveries)::float8
      from ops.webhook_deliveries w group by w.outcome;

  -- Clerk payloads applied although part of them could not be stored (ops.clerk_sync_warnings).
  return query
    select 'clerk_webhook_warnings_total', jsonb_build_object('kind', w.kind), sum(w.count)::float8
      from ops.clerk_sync_warnings w group by w.kind;

  return query
    select 'http_requests_total', jsonb_build_object('function', h.function_name, 'status_class', h.status_class),
           sum(h.requests)::float8
      from ops.http_requests h group by h.function_name, h.status_class;

  return query
    with open_requests as (
      select r.kind, r.status, r.due_at from privacy.requests r where r.status not in ('completed', 'cancelled')
    ), kinds(kind) as (values ('export'), ('erasure'))
    select m.metric, jsonb_build_object('kind', k.kind), m.value::float8
      from kinds k
     cross join lateral (values
       ('dsar_requests_open', (select count(*) from open_requests o where o.kind = k.kind)),
       ('dsar_requests_due_soon', (select count(*) from open_requests o where o.kind = k.kind
                                     and o.due_at >= now() and o.due_at <= now() + interval '3 days')),
       ('dsar_requests_overdue', (select count(*) from open_requests o where o.kind = k.kind and o.due_at < now())),
       ('dsar_requests_failed', (select count(*) from open_requests o where o.kind = k.kind and o.status = 'failed'))
     ) as m(metric, value);

  if to_regclass('cron.job') is not null then
    return query
      select m.metric, jsonb_build_object('job', j.jobname::text), m.value
        from cron.job j
        left join lateral (
          select count(*) filter (where d.status in ('succeeded', 'failed')) as runs,
                 count(*) filter (where d.status = 'failed') as failures
            from cron.job_run_details d
           where d.jobid = j.jobid and d.start_time > now() - interval '24 hours'
        ) recent on true
        left join lateral (
          select max(d.start_time) as at from cron.job_run_details d
           where d.jobid = j.jobid and d.status = 'succeeded'
        ) last_ok on true
       cross join lateral (values
         ('cron_job_runs_24h', coalesce(recent.runs, 0)::float8),
         ('cron_job_failures_24h', coalesce(recent.failures, 0)::float8),
         ('cron_job_seconds_since_last_success', extract(epoch from now() - last_ok.at)::float8)
       ) as m(metric, value)
       where j.jobname is not null and m.value is not null;
  end if;

  return query
    select m.metric, '{}'::jsonb, m.value
      from ops.audit_chain_status s
     cross join lateral (values
       ('audit_chain_ok', case when s.ok then 1 else 0 end::float8),
       ('audit_chain_verified_timestamp_seconds', extract(epoch from s.verified_at)::float8)
     ) as m(metric, value);

  return query
    select 'audit_unsealed_entries', '{}'::jsonb, count(*)::float8
      from audit.log l where l.id > (select st.sealed_through from audit.seal_state st);

  return query
    select 'database_connections', jsonb_build_object('state', coalesce(a.state, 'unknown')), count(*)::float8
      from pg_catalog.pg_stat_activity a
     where a.datname = current_database() and a.backend_type = 'client backend'
     group by a.state;
  return query
    select 'database_max_connections', '{}'::jsonb, current_setting('max_connections')::float8;

  return query
    select 'alerts_open', jsonb_build_object('severity', s.severity),
           (select count(*) from ops.alerts a where a.status = 'open' and a.severity = s.severity)::float8
      from (values ('critical'), ('warning'), ('info')) as s(severity);

  return query
    select 'notifications', jsonb_build_object('status', s.status),
           (select count(*) from ops.notification_outbox o where o.status = s.status)::float8
      from (values ('pending'), ('sending'), ('sent'), ('dead')) as s(status);

  return query
    select 'alert_rule_errors', jsonb_build_object('rule', r.name), 1::float8
      from ops.alert_rules r where r.last_error is not null;
end;
$$;
comment on function ops.metrics() is
  'Every sample of GET /admin/metrics: (metric name without prefix, labels, value). Staff, automation and the owner only (ops.require_staff). Adding a family: one more RETURN QUERY here (a new migration) and one entry in admin/routes/metrics.ts.';

revoke all on function ops.metrics() from public, anon, authenticated, service_role;
grant execute on function ops.metrics() to authenticated, service_role;
-- The scrape token path runs as service_role: it may reach ops.metrics() and nothing else of ops
-- (every other ops table and function revokes service_role).
grant usage on schema ops to service_role;

-- Staff read of alerts (GET /admin/alerts): open ones first, then the latest resolved, with the
-- state of their notifications.
create function ops.list_alerts(max_resolved integer default 50)
returns table (
  id bigint, rule text, key text, severity text, status text, value numeric, threshold numeric,
  opened_at timestamptz, last_seen_at timestamptz, resolved_at timestamptz, runbook text, notifications jsonb
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform ops.require_staff();
  if max_resolved is null or max_resolved < 0 or max_resolved > 500 then
    raise exception 'max_resolved must be between 0 and 500' using errcode = '22023';
  end if;
  return query
    select a.id, a.rule, a.key, a.severity, a.status, a.value, a.threshold, a.opened_at, a.last_seen_at,
           a.resolved_at, r.runbook,
           coalesce((select jsonb_agg(jsonb_build_object('event', o.event, 'status', o.status, 'attempts', o.attempts,
                                                         'last_status', o.last_status, 'sent_at', o.sent_at)
                                      order by o.id)
                       from ops.notification_outbox o where o.alert_id = a.id), '[]'::jsonb)
      from (
        (select * from ops.alerts a1 where a1.status = 'open')
        union all
        (select * from ops.alerts a2 where a2.status = 'resolved' order by a2.resolved_at desc limit max_resolved)
      ) a
      join ops.alert_rules r on r.name = a.rule
     order by a.status, a.opened_at desc, a.id desc;
end;
$$;
comment on function ops.list_alerts(integer) is
  'Open alerts and the latest max_resolved resolved ones, with their notifications'' state. Staff, automation and the owner only.';
revoke all on function ops.list_alerts(integer) from public, anon, authenticated, service_role;
grant execute on function ops.list_alerts(integer) to authenticated;

-- ---------------------------------------------------------------------------------------------
-- Notification dispatch
-- ---------------------------------------------------------------------------------------------
create function private.claim_notifications(max_notifications integer default 20)
returns table (id bigint, idempotency_key text, payload jsonb, attempt integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if max_notifications is null or max_notifications < 1 or max_notifications > 100 then
    raise exception 'max_notifications must be between 1 and 100' using errcode = '22023';
  end if;
  return query
    update ops.notification_outbox o
       set status = 'sending', attempts = o.attempts + 1,
           lease_until = now() + ops.setting_interval('notification_lease')
     where o.id = any (array(
       select c.id from ops.notification_outbox c
        where (c.status = 'pending' and c.next_attempt_at <= now())
           or (c.status = 'sending' and c.lease_until < now())
        order by c.id
        limit max_notifications
          for update skip locked))
    returning o.id, o.idempotency_key, o.payload, o.attempts;
end;
$$;
comment on function private.claim_notifications(integer) is
  'Dispatcher: claims up to max_notifications due notifications (pending and due, or sending with an expired lease) FOR UPDATE SKIP LOCKED, counting the attempt and leasing them for notification_lease. Commit before sending.';

create function private.finish_notification(
  notification_id bigint, attempt integer, delivered boolean, http_status integer default null, error text default null
)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  row_after ops.notification_outbox;
  backoff interval;
begin
  if delivered then
    update ops.notification_outbox o
       set status = 'sent', sent_at = now(), lease_until = null, last_status = http_status, last_error = null
     where o.id = notification_id and o.attempts = attempt and o.status = 'sending'
    returning o.* into row_after;
  else
    backoff := least(ops.setting_interval('notification_retry_base') * power(2, least(attempt - 1, 30)),
                     ops.setting_interval('notification_retry_max'));
    update ops.notification_outbox o
       set status = case when o.attempts >= ops.setting_int('notification_max_attempts') then 'dead' else 'pending' end,
           next_attempt_at = now() + backoff, lease_until = null, last_status = http_status,
           last_error = left(error, 200)
     where o.id = notification_id and o.attempts = attempt and o.status = 'sending'
    returning o.* into row_after;
    if row_after.status = 'dead' then
      perform audit.append('alert.notification.dead', 'ops', 'notification_outbox', row_after.id::text,
        jsonb_build_object('alert_id', row_after.alert_id, 'event', row_after.event,
                           'attempts', row_after.attempts, 'last_status', row_after.last_status));
    end if;
  end if;
  -- Null: this attempt no longer holds the row (its lease expired and another claim took it).
  return row_after.status;
end;
$$;
comment on function private.finish_notification(bigint, integer, boolean, integer, text) is
  'Dispatcher: records the outcome of one send, only if `attempt` still holds the row (else returns null and changes nothing). Failure: pending again after min(notification_retry_base * 2^(attempt-1), notification_retry_max), or dead after notification_max_attempts (audited).';

revoke all on function private.claim_notifications(integer),
  private.finish_notification(bigint, integer, boolean, integer, text)
  from public, anon, authenticated, service_role;
grant execute on function private.claim_notifications(integer),
  private.finish_notification(bigint, integer, boolean, integer, text)
  to service_role;

-- ---------------------------------------------------------------------------------------------
-- Production wake-up through pg_net (see 20261201100400_privacy_runner_schedule.sql)
-- ---------------------------------------------------------------------------------------------
create function ops.alerts_dispatcher_command(dispatch_url text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if dispatch_url is null
     or dispatch_url !~ '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/functions/v1/admin/alerts/dispatch$' then
    raise exception 'the dispatcher URL must be https://<host>/functions/v1/admin/alerts/dispatch'
      using errcode = 'invalid_parameter_value';
  end if;
  return format(
    $cmd$select net.http_post(url := %L, headers := jsonb_build_object('content-type', 'application/json', 'x-alerts-dispatch-secret', (select decrypted_secret from vault.decrypted_secrets where name = 'alerts_dispatch_secret')), body := '{}'::jsonb, timeout_milliseconds := 30000)$cmd$,
    dispatch_url);
end;
$$;
comment on function ops.alerts_dispatcher_command(text) is
  'The pg_cron command of job alerts-dispatcher: net.http_post to the dispatcher URL with x-alerts-dispatch-secret read from Vault (alerts_dispatch_secret) at run time.';

create function ops.schedule_alerts_dispatcher(dispatch_url text)
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  has_secret boolean;
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_net') then
    raise exception 'pg_net is not enabled: enable it (Database > Extensions, or create extension pg_net with schema extensions) and run this again'
      using errcode = 'feature_not_supported';
  end if;
  if to_regclass('vault.decrypted_secrets') is null then
    raise exception 'Vault (supabase_vault) is not available on this server'
      using errcode = 'feature_not_supported';
  end if;
  -- Dynamic: the vault schema does not exist where this function is created locally.
  execute format('select exists (select 1 from %I.decrypted_secrets where name = $1 and char_length(decrypted_secret) >= 32)', 'vault')
    into has_secret using 'alerts_dispatch_secret';
  if not has_secret then
    raise exception 'store the dispatcher secret first: select vault.create_secret(''<ALERT_DISPATCH_SECRET, 32+ characters>'', ''alerts_dispatch_secret'')'
      using errcode = 'feature_not_supported';
  end if;
  return ops.schedule_job('alerts-dispatcher', '* * * * *', ops.alerts_dispatcher_command(dispatch_url),
    'Wakes the alert notification dispatcher (POST /admin/alerts/dispatch) through pg_net.');
end;
$$;
comment on function ops.schedule_alerts_dispatcher(text) is
  'Deploy step: schedules alerts-dispatcher (every minute) once pg_net and the Vault secret alerts_dispatch_secret exist; refuses with 0A000 otherwise. Idempotent (ops.schedule_job).';

revoke all on function ops.alerts_dispatcher_command(text), ops.schedule_alerts_dispatcher(text)
  from public, anon, authenticated, service_role;
