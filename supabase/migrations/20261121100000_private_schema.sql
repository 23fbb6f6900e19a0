-- Purpose: the `private` schema for helpers that must not be reachable through the Data API
-- (config.toml exposes only `public`), and the shared `updated_at` trigger function.
-- Objects: schema private; function private.set_updated_at().
-- Destructive: nothing.

create schema if not exists private;
comment on schema private is
  'Internal helpers (trigger functions, security definer checks). Not exposed by the Data API.';

-- API roles may call the few helpers granted to them (policies run as the caller), nothing else.
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

-- Functions are executable by PUBLIC by default and a per-schema default cannot take that away,
-- so every function here is followed by an explicit revoke and opt-in grants.

create function private.set_updated_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  -- Only real changes move the timestamp; a no-op update (same values) keeps it.
  if new is distinct from old then
    new.updated_at := now();
  end if;
  return new;
end;
$$;
comment on function private.set_updated_at() is
  'BEFORE UPDATE trigger: sets updated_at to the transaction time when the row really changed.';
revoke all on function private.set_updated_at() from public;
