-- The privacy runner's production schedule (pg_cron -> pg_net -> the privacy function, secret in
-- Vault): the command it would schedule, and a clear refusal where pg_net or Vault are missing
-- (the local stack: Debian has no pg_net package). Where pg_net exists the refusal tests are
-- skipped and the schedule is made and checked instead.
begin;
set search_path = public, extensions, tests;

select plan(9);

select ok(to_regprocedure('ops.schedule_privacy_runner(text)') is not null, 'ops.schedule_privacy_runner exists');
select ok(
  not has_function_privilege('authenticated', 'ops.schedule_privacy_runner(text)', 'execute')
  and not has_function_privilege('service_role', 'ops.schedule_privacy_runner(text)', 'execute')
  and not has_function_privilege('anon', 'ops.schedule_privacy_runner(text)', 'execute'),
  'only the owner (a deploy step) may schedule the runner'
);

select ops.privacy_runner_command('https://abcdefghij.supabase.co/functions/v1/privacy/erasures/run') as command \gset
select matches(:'command'::text, '^select net\.http_post\(url := ''https://abcdefghij\.supabase\.co/functions/v1/privacy/erasures/run''',
  'the command posts to the runner URL through pg_net');
select matches(:'command'::text,
  '''x-privacy-runner-secret'', \(select decrypted_secret from vault\.decrypted_secrets where name = ''privacy_runner_secret''\)',
  'the secret header is read from Vault when the job runs (no secret in cron.job)');
select throws_ok($$ select ops.privacy_runner_command('http://abcdefghij.supabase.co/functions/v1/privacy/erasures/run') $$,
  '22023', null, 'plain http is refused');
select throws_ok($$ select ops.privacy_runner_command('https://example.com/functions/v1/privacy/erasures/run''); drop table x; --') $$,
  '22023', null, 'anything but a plain runner URL is refused');

select case when exists (select 1 from pg_extension where extname = 'pg_net') then
  skip('pg_net is enabled here: the refusal does not apply', 2)
else
  collect_tap(
    throws_ok($$ select ops.schedule_privacy_runner('https://abcdefghij.supabase.co/functions/v1/privacy/erasures/run') $$,
      '0A000', null, 'without pg_net, scheduling is refused with a clear message (feature_not_supported)'),
    ok(not exists (select 1 from cron.job where jobname = 'privacy-erasure-runner')
       and not exists (select 1 from ops.jobs where name = 'privacy-erasure-runner'),
      'and nothing is scheduled or declared')
  )
end;

select ok(
  exists (select 1 from pg_extension where extname = 'pg_net')
  or not exists (select 1 from pg_available_extensions where name = 'pg_net'),
  'pg_net is enabled wherever the server offers it (the migration creates it there)'
);

select * from finish();
rollback;
