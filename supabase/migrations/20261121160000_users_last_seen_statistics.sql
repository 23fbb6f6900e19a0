-- Purpose: planner statistics for the "last seen" expression of the mark-inactive-users job,
-- greatest(last_active_at, last_sign_in_at, created_at). The job finds its rows through the two
-- partial expression indexes of 20261121140200, but Postgres ignores the statistics of partial
-- indexes when it estimates a condition, so `greatest(...) < cutoff` was estimated at the default
-- third of the table and the job read public.users sequentially (and sorted it) for every batch,
-- even when a few dozen users were due (bench/plans.ts, job.mark-inactive-users). With expression
-- statistics the estimate follows the data and the batch is a bitmap scan of
-- users_last_seen_active_idx; the `more` probe a BitmapOr of both partial indexes.
-- No write cost: statistics are gathered by ANALYZE (autovacuum), not maintained per row.
-- Objects: statistics public.users_last_seen_stats; analyze of public.users (fills them at once).
-- Destructive: nothing.

create statistics if not exists public.users_last_seen_stats
  on (greatest(last_active_at, last_sign_in_at, created_at)) from public.users;

comment on statistics public.users_last_seen_stats is
  'Distribution of greatest(last_active_at, last_sign_in_at, created_at) ("last seen"), which the partial indexes users_last_seen_*_idx cannot give the planner: lets mark-inactive-users select its batch by index.';

-- Fill the statistics now rather than at the next autovacuum analyze (seconds on millions of rows).
analyze public.users;
