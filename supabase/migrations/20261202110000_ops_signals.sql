-- Purpose: operational signals that survive an Edge Function isolate, counted in the database per
-- one-minute bucket (docs/OPERATIONS.md, "Signals"):
--   * ops.webhook_deliveries: Clerk webhook deliveries by outcome (applied, duplicate, stale,
--     tombstoned, unknown_user, ignored, rejected_signature, rejected_payload, failed). The receiver
--     counts a delivery in the statement that applies it (one round trip); a rejection (bad
--     signature, bad payload) with one small call that stores nothing of the body;
--   * ops.http_requests: requests per function and status class (2xx, 3xx, 401, 403, 429, 4xx,
--     5xx), aggregated in memory by each isolate (_shared/signals.ts) and flushed in bounded
--     batches.
-- Nothing personal: outcome, function name, status class, minute and a count; no ids at all.
-- Counters stay monotonic through retention: the prune-signals job folds buckets older than
-- signal_retention into one row per label set with bucket -infinity instead of deleting their
-- counts, so a sum over the table is a Prometheus counter (GET /admin/metrics).
-- Objects: tables ops.webhook_deliveries, ops.http_requests (+ RLS, no grants);
-- functions private.record_webhook_outcome(text, integer), private.record_http_requests(jsonb),
-- ops.prune_signals(); setting signal_retention; pg_cron job prune-signals.
-- Destructive: nothing (the job folds, it does not lose counts).

create table ops.webhook_deliveries (
  bucket timestamptz not null,
  outcome text not null
    -- Open set (the receiver may learn new outcomes) but a closed shape: low cardinality, no ids.
    constraint webhook_deliveries_outcome_shape check (outcome ~ '^[a-z][a-z_]{0,39}$'),
  -- Concurrent deliveries of one outcome in one minute would all update one row and queue on its
  -- lock until each commits; eight rows per (minute, outcome), picked by backend, spread them.
  shard smallint not null default 0 constraint webhook_deliveries_shard_range check (shard between 0 and 7),
  deliveries bigint not null constraint webhook_deliveries_deliveries_positive check (deliveries > 0),
  constraint webhook_deliveries_pkey primary key (bucket, outcome, shard)
);
comment on table ops.webhook_deliveries is
  'Clerk webhook deliveries per minute (bucket) and outcome. Bucket -infinity holds everything older than signal_retention (folded by prune-signals), so sums are monotonic counters.';
comment on column ops.webhook_deliveries.bucket is 'Start of the minute (UTC), or -infinity for the folded past.';
comment on column ops.webhook_deliveries.shard is
  'pg_backend_pid() % 8 of the writer: spreads concurrent increments over eight rows. Sum over shards.';
comment on column ops.webhook_deliveries.outcome is
  'applied | duplicate | stale | tombstoned | unknown_user | ignored (from private.apply_clerk_event) | rejected_signature | rejected_payload | failed (the receiver).';

create table ops.http_requests (
  bucket timestamptz not null,
  function_name text not null
    constraint http_requests_function_name_shape check (function_name ~ '^[a-z][a-z0-9_-]{0,39}$'),
  status_class text not null
    constraint http_requests_status_class_known
      check (status_class in ('2xx', '3xx', '401', '403', '429', '4xx', '5xx')),
  requests bigint not null constraint http_requests_requests_positive check (requests > 0),
  constraint http_requests_pkey primary key (bucket, function_name, status_class)
);
comment on table ops.http_requests is
  'Edge Function requests per minute (bucket), function and status class. 401, 403 and 429 are counted apart from 4xx (the classes are disjoint). Bucket -infinity holds the folded past.';
comment on column ops.http_requests.status_class is '2xx | 3xx | 401 | 403 | 429 | 4xx (any other 4xx) | 5xx.';

-- The alert rules read recent buckets by outcome / class.
create index webhook_deliveries_outcome_bucket_idx on ops.webhook_deliveries (outcome, bucket);
create index http_requests_status_class_bucket_idx on ops.http_requests (status_class, bucket);

alter table ops.webhook_deliveries enable row level security;
alter table ops.http_requests enable row level security;
revoke all on table ops.webhook_deliveries, ops.http_requests from public, anon, authenticated, service_role;

insert into ops.settings (key, value, value_type, minimum, description) values
  ('signal_retention', '14 days', 'interval', '1 hour',
   'Per-minute signal buckets (ops.webhook_deliveries, ops.http_requests) are kept this long; prune-signals then folds them into the all-time totals (bucket -infinity).');

-- Called by the webhook receiver as service_role, in the statement that applies the delivery or
-- on its rejection path. Definer: service_role has no grant on ops.
create function private.record_webhook_outcome(outcome text, deliveries integer default 1)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  if record_webhook_outcome.deliveries is null or record_webhook_outcome.deliveries < 1
     or record_webhook_outcome.deliveries > 100000 then
    raise exception 'deliveries must be between 1 and 100000' using errcode = '22023';
  end if;
  insert into ops.webhook_deliveries as w (bucket, outcome, shard, deliveries)
  values (date_trunc('minute', now()), record_webhook_outcome.outcome, pg_catalog.pg_backend_pid() % 8,
          record_webhook_outcome.deliveries)
  on conflict (bucket, outcome, shard) do update set deliveries = w.deliveries + excluded.deliveries;
  return record_webhook_outcome.outcome;
end;
$$;
comment on function private.record_webhook_outcome(text, integer) is
  'Counts Clerk webhook deliveries of one outcome in the current minute (ops.webhook_deliveries). Returns the outcome, so it can wrap the call that produced it.';

-- The flush of _shared/signals.ts: one statement per batch. Buckets far in the past or future
-- (a skewed or long-suspended isolate) are clamped to now so a count is never lost nor
-- retention-defeating.
create function private.record_http_requests(counts jsonb)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  recorded integer;
begin
  if counts is null or jsonb_typeof(counts) <> 'array' then
    raise exception 'counts must be a JSON array' using errcode = '22023';
  end if;
  if jsonb_array_length(counts) > 500 then
    raise exception 'at most 500 counts per call' using errcode = '22023';
  end if;
  insert into ops.http_requests as h (bucket, function_name, status_class, requests)
  select case when c.bucket between now() - interval '1 day' and now() + interval '5 minutes'
              then date_trunc('minute', c.bucket) else date_trunc('minute', now()) end,
         c.function_name, c.status_class, sum(c.requests)
    from jsonb_to_recordset(counts) as c(bucket timestamptz, function_name text, status_class text, requests bigint)
   group by 1, 2, 3
  on conflict (bucket, function_name, status_class) do update set requests = h.requests + excluded.requests;
  get diagnostics recorded = row_count;
  return recorded;
end;
$$;
comment on function private.record_http_requests(jsonb) is
  'Adds a batch (<= 500) of {bucket, function_name, status_class, requests} to ops.http_requests. Called by the in-memory aggregator of every function (_shared/signals.ts) as service_role.';

revoke all on function private.record_webhook_outcome(text, integer), private.record_http_requests(jsonb)
  from public, anon, authenticated, service_role;
grant execute on function private.record_webhook_outcome(text, integer), private.record_http_requests(jsonb)
  to service_role;

-- Job prune-signals: folds expired buckets into bucket -infinity (one statement per table; the
-- rows are few: at most a few dozen label sets per minute).
create function ops.prune_signals()
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  job constant text := 'prune-signals';
  started timestamptz := clock_timestamp();
  cutoff timestamptz;
  webhook_buckets bigint;
  http_buckets bigint;
begin
  if not ops.try_lock_job(job) then
    return ops.skip_job(job);
  end if;
  cutoff := now() - ops.setting_interval('signal_retention');

  with gone as (
    delete from ops.webhook_deliveries w
     where w.bucket < cutoff and w.bucket <> '-infinity'
    returning w.outcome, w.deliveries
  ), folded as (
    insert into ops.webhook_deliveries as w (bucket, outcome, shard, deliveries)
    select '-infinity', g.outcome, 0, sum(g.deliveries) from gone g group by g.outcome
    on conflict (bucket, outcome, shard) do update set deliveries = w.deliveries + excluded.deliveries
  )
  select count(*) into webhook_buckets from gone;

  with gone as (
    delete from ops.http_requests h
     where h.bucket < cutoff and h.bucket <> '-infinity'
    returning h.function_name, h.status_class, h.requests
  ), folded as (
    insert into ops.http_requests as h (bucket, function_name, status_class, requests)
    select '-infinity', g.function_name, g.status_class, sum(g.requests) from gone g
     group by g.function_name, g.status_class
    on conflict (bucket, function_name, status_class) do update set requests = h.requests + excluded.requests
  )
  select count(*) into http_buckets from gone;

  return ops.finish_job(job, started, jsonb_build_object(
    'webhook_buckets', webhook_buckets, 'http_buckets', http_buckets, 'cutoff', cutoff));
end;
$$;
comment on function ops.prune_signals() is
  'Job prune-signals: folds signal buckets older than signal_retention into bucket -infinity (all-time totals stay exact). Returns the audited counts.';

revoke all on function ops.prune_signals() from public, anon, authenticated, service_role;

select ops.schedule_job('prune-signals', '52 * * * *', 'select ops.prune_signals()',
  'Folds per-minute signal buckets (webhook outcomes, HTTP status classes) older than signal_retention into all-time totals.');
