-- Purpose: one table for the retention and batching settings of the lifecycle jobs, so no
-- retention is a literal in SQL. Schema `ops` (operations: settings, job registry, job bodies,
-- job and migration status) is not exposed by the Data API (config.toml exposes only public).
-- Values are validated on write (they must parse as their type and respect their minimum), and
-- read through typed accessors. The project restore window of the API and the purge job of
-- soft-deleted projects share the one setting `project_retention`:
-- private.project_restore_window() now reads it.
-- Objects: schema ops; table ops.settings (+ RLS, grants, triggers); functions
-- ops.validate_setting(), ops.setting_interval(text), ops.setting_int(text); replaces
-- private.project_restore_window().
-- Destructive: nothing.

create schema ops;
comment on schema ops is
  'Operations: lifecycle job settings, job registry and job bodies, job and migration status for staff. Not exposed by the Data API.';
revoke all on schema ops from public;

create table ops.settings (
  key text primary key
    constraint settings_key_shape check (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  value text not null,
  value_type text not null
    constraint settings_value_type_known check (value_type in ('interval', 'integer')),
  minimum text,
  description text not null
    constraint settings_description_length check (char_length(description) between 1 and 500),
  updated_at timestamptz not null default now()
);

comment on table ops.settings is
  'Settings of the lifecycle jobs, one row per setting (retentions, batch sizes). Read through ops.setting_interval() / ops.setting_int(); change with an UPDATE (docs/RUNBOOK.md, "Lifecycle jobs & settings").';
comment on column ops.settings.key is 'Setting name, snake_case (project_retention, cleanup_batch_size, ...).';
comment on column ops.settings.value is 'The value as text, in the syntax of value_type (''30 days'', ''5000'').';
comment on column ops.settings.value_type is 'interval | integer: how value is parsed and validated.';
comment on column ops.settings.minimum is 'Smallest accepted value (same type), when there is a floor (e.g. the webhook inbox keeps at least 30 days).';
comment on column ops.settings.description is 'What the setting governs, for operators.';

create trigger settings_set_updated_at
  before update on ops.settings
  for each row execute function private.set_updated_at();

-- Refuses a value that does not parse, is not positive, or is below the minimum.
create function ops.validate_setting()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  as_interval interval;
  as_integer bigint;
begin
  if new.value_type = 'interval' then
    as_interval := new.value::interval;
    if as_interval <= interval '0' then
      raise exception 'setting % must be a positive interval', new.key using errcode = '22023';
    end if;
    if new.minimum is not null and as_interval < new.minimum::interval then
      raise exception 'setting % must be at least %', new.key, new.minimum using errcode = '22023';
    end if;
  else
    as_integer := new.value::bigint;
    if as_integer <= 0 or as_integer > 2147483647 then
      raise exception 'setting % must be a positive integer', new.key using errcode = '22023';
    end if;
    if new.minimum is not null and as_integer < new.minimum::bigint then
      raise exception 'setting % must be at least %', new.key, new.minimum using errcode = '22023';
    end if;
  end if;
  return new;
end;
$$;
comment on function ops.validate_setting() is
  'BEFORE INSERT/UPDATE trigger on ops.settings: the value must parse as value_type, be positive and respect minimum (22023 otherwise).';

create trigger settings_validate
  before insert or update on ops.settings
  for each row execute function ops.validate_setting();

create function ops.setting_interval(setting_key text)
returns interval
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  result interval;
begin
  select s.value::interval into result
    from ops.settings s
   where s.key = setting_key and s.value_type = 'interval';
  if result is null then
    raise exception 'interval setting % is not defined in ops.settings', setting_key using errcode = 'P0002';
  end if;
  return result;
end;
$$;
comment on function ops.setting_interval(text) is
  'The value of an interval setting of ops.settings; raises P0002 when the key is missing or not an interval.';

create function ops.setting_int(setting_key text)
returns integer
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  result integer;
begin
  select s.value::integer into result
    from ops.settings s
   where s.key = setting_key and s.value_type = 'integer';
  if result is null then
    raise exception 'integer setting % is not defined in ops.settings', setting_key using errcode = 'P0002';
  end if;
  return result;
end;
$$;
comment on function ops.setting_int(text) is
  'The value of an integer setting of ops.settings; raises P0002 when the key is missing or not an integer.';

insert into ops.settings (key, value, value_type, minimum, description) values
  ('project_retention', '30 days', 'interval', '1 day',
   'Soft-deleted projects stay restorable this long (POST /projects/:id/restore), then the purge job removes them with their tabs and history.'),
  ('workspace_history_retention', '90 days', 'interval', '1 day',
   'workspace_history events older than this are trimmed.'),
  ('webhook_inbox_retention', '30 days', 'interval', '30 days',
   'Clerk webhook deliveries (private.clerk_webhook_inbox) are kept this long. At least 30 days: far beyond Svix''s retry schedule, so a retried or replayed delivery is still recognised.'),
  ('user_inactive_after', '180 days', 'interval', '1 day',
   'A user with no activity (last_active_at, last_sign_in_at, created_at) for this long is marked inactive (users.inactive_since).'),
  ('cron_history_retention', '14 days', 'interval', '1 day',
   'pg_cron run history (cron.job_run_details) older than this is pruned.'),
  ('cleanup_batch_size', '5000', 'integer', '1',
   'Rows one statement of a lifecycle job deletes or updates at most.'),
  ('cleanup_max_batches', '20', 'integer', '1',
   'Batches one run of a lifecycle job processes at most; the next run continues (a run''s result says more: true).');

-- Automation and operators only: no policy and no grant for any API role.
alter table ops.settings enable row level security;
revoke all on table ops.settings from public, anon, authenticated, service_role;
revoke all on function ops.validate_setting(), ops.setting_interval(text), ops.setting_int(text)
  from public, anon, authenticated, service_role;

-- The API's restore route and the purge job read the same setting. Definer: the API calls this
-- as `authenticated`, which cannot (and need not) read ops.settings.
create or replace function private.project_restore_window()
returns interval
language sql
stable
security definer
set search_path = ''
as $$
  select ops.setting_interval('project_retention')
$$;
comment on function private.project_restore_window() is
  'Retention of soft-deleted projects (ops.settings project_retention): restorable within it, purged after it.';
