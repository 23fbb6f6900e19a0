-- Purpose: the production schedule of the privacy runner (docs/PRIVACY.md 5.3): pg_cron calls
-- POST /functions/v1/privacy/erasures/run through pg_net every five minutes, with the runner
-- secret read from Vault at run time (never stored in cron.job or ops.jobs). The in-database job
-- run-due-erasures erases without it; the runner adds the Clerk deletion step.
-- pg_net exists on hosted Supabase (Database > Extensions) but has no Debian package, so the
-- local stack has none: the extension is created here only where the server offers it, and
-- ops.schedule_privacy_runner() refuses with a clear message (0A000) until pg_net and the Vault
-- secret are there. Deploy step (docs/PRIVACY.md, README): enable pg_net, store the secret with
-- vault.create_secret(..., 'privacy_runner_secret'), then
-- select ops.schedule_privacy_runner('https://<project-ref>.supabase.co/functions/v1/privacy/erasures/run').
-- Objects: extension pg_net (where available, schema extensions; its functions live in schema
-- net); functions ops.privacy_runner_command(text), ops.schedule_privacy_runner(text).
-- Destructive: nothing.

do $$
begin
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_net with schema extensions;
  else
    raise notice 'pg_net is not available on this server: ops.schedule_privacy_runner() refuses until it is enabled';
  end if;
end;
$$;

-- The cron command: a call of net.http_post whose secret header is looked up in Vault when the
-- job runs. Text only, so it can be built (and tested) where pg_net is absent.
create function ops.privacy_runner_command(runner_url text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if runner_url is null
     or runner_url !~ '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/functions/v1/privacy/erasures/run$' then
    raise exception 'the runner URL must be https://<host>/functions/v1/privacy/erasures/run'
      using errcode = 'invalid_parameter_value';
  end if;
  return format(
    $cmd$select net.http_post(url := %L, headers := jsonb_build_object('content-type', 'application/json', 'x-privacy-runner-secret', (select decrypted_secret from vault.decrypted_secrets where name = 'privacy_runner_secret')), body := '{}'::jsonb, timeout_milliseconds := 60000)$cmd$,
    runner_url);
end;
$$;
comment on function ops.privacy_runner_command(text) is
  'The pg_cron command of job privacy-erasure-runner: net.http_post to the runner URL with x-privacy-runner-secret read from Vault (privacy_runner_secret) at run time.';

create function ops.schedule_privacy_runner(runner_url text)
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
  -- Dynamic (schema name as a parameter, so plpgsql_check does not resolve it): the vault schema
  -- does not exist where this function is created locally.
  execute format('select exists (select 1 from %I.decrypted_secrets where name = $1 and char_length(decrypted_secret) >= 32)', 'vault')
    into has_secret using 'privacy_runner_secret';
  if not has_secret then
    raise exception 'store the runner secret first: select vault.create_secret(''<PRIVACY_RUNNER_SECRET, 32+ characters>'', ''privacy_runner_secret'')'
      using errcode = 'feature_not_supported';
  end if;
  return ops.schedule_job('privacy-erasure-runner', '*/5 * * * *', ops.privacy_runner_command(runner_url),
    'Calls the privacy runner function (due erasures, then the Clerk deletion step) through pg_net.');
end;
$$;
comment on function ops.schedule_privacy_runner(text) is
  'Deploy step: schedules privacy-erasure-runner (every 5 minutes) once pg_net and the Vault secret privacy_runner_secret exist; refuses with 0A000 otherwise. Idempotent (ops.schedule_job).';

revoke all on function ops.privacy_runner_command(text), ops.schedule_privacy_runner(text)
  from public, anon, authenticated, service_role;
