-- The seams of 20261202140000_sql_seams: the one caller-capacity check and its two error styles,
-- and the batch-job helper's argument check and skip. (The checks that call them keep their own
-- tests: 330_audit_chain, 420_job_registry, 510/520 privacy, 600_data_api_side_door; the jobs
-- that run through ops.run_batches keep 410_lifecycle_jobs; audit.capture() is in 300.)
begin;
set search_path = public, extensions, tests;

select plan(9);

select is(private.caller_capacity(), 'owner', 'a session without an API role is the owner');
select lives_ok($$ select private.require_caller(array['owner'], 'never raised') $$,
  'require_caller: an allowed capacity passes');
select throws_ok($$ select private.require_caller(array['admin', 'service'], 'admins only') $$,
  'P0001', 'admins only', 'require_caller: P0001 by default (hint http:403, an HTTP 403)');
select throws_ok($$ select private.require_caller(array['support'], 'staff only', '42501') $$,
  '42501', 'staff only', 'require_caller: or the SQLSTATE given');
select is(
  (select array_agg(p.oid::regprocedure::text order by p.oid::regprocedure::text) from pg_proc p
    where p.oid in ('private.caller_capacity()'::regprocedure, 'private.require_caller(text[], text, text)'::regprocedure,
                    'ops.run_batches(text, text, text, text, text, integer, integer)'::regprocedure,
                    'audit.capture(regclass)'::regprocedure)
      and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute')
           or has_function_privilege('service_role', p.oid, 'execute'))),
  null,
  'no API role may call the seams directly'
);

select throws_ok(
  $$ select ops.run_batches('seam-probe', 'workspace_history_retention', 'select 1', 'select false', 'rows', 0) $$,
  '22023', 'batch_size and max_batches must be positive', 'run_batches: refuses a batch size below 1');
select is(
  ops.run_batches('seam-probe', 'workspace_history_retention',
    'select 1 from public.workspace_history where changed_at < $1 and false limit $2', 'select false', 'rows') - 'duration_ms' - 'cutoff',
  '{"job": "seam-probe", "more": false, "rows": 0, "status": "completed", "batches": 0}'::jsonb,
  'run_batches: an empty first batch ends the run, counted under the given key'
);
select is(
  ops.run_batches('seam-probe', 'workspace_history_retention',
    'select g from generate_series(1, $2) g where $1 is not null', 'select true', 'rows', 2, 3) - 'duration_ms' - 'cutoff',
  '{"job": "seam-probe", "more": true, "rows": 6, "status": "completed", "batches": 3}'::jsonb,
  'run_batches: full batches run up to max_batches, then the probe says whether more is left'
);
select is(
  (ops.run_batches('seam-probe', 'workspace_history_retention', 'select 1 where $1 is not null and $2 > 0',
    'select false', 'rows') ->> 'cutoff')::timestamptz,
  now() - ops.setting_interval('workspace_history_retention'),
  'run_batches: the cutoff is now() minus the retention setting'
);

select * from finish();
rollback;
