-- Stand-ins for the platform objects that a dump of the project's schemas refers to, created as
-- `postgres` in a SCRATCH database by `npm run db:restore-check` before it restores a backup.
-- A project's own database already has these (Supabase creates them; locally
-- tools/sql/platform_bootstrap.sql does); a database made with `create database`, on Supabase or
-- locally, starts from template1 and has none of them. Everything here is something `postgres`
-- may do on Supabase in a database it created: trusted extensions, its own schemas and functions.
-- Idempotent.
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
grant usage on schema extensions to anon, authenticated, service_role;

-- The same bodies as GoTrue's (auth_functions.sql, shared with platform_bootstrap.sql); here owned by postgres.
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

\ir auth_functions.sql

do $$
begin
  if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;
