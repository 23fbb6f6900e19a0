-- Local-only platform bootstrap: the part of a Supabase project that exists before our first
-- migration and that `supabase start` or a hosted project already provides. Applied by
-- tools/db.sh on the local cluster only, connected as the cluster's superuser `supabase_admin`
-- (initdb -U supabase_admin); never shipped as a migration. Idempotent.
--
-- Shaped after supabase/postgres (migrations/db/init-scripts/*, migrations/db/migrations/*,
-- ansible/files/postgresql_extension_custom_scripts/*) and GoTrue's migrations; the details and
-- what was checked are in docs/DATABASE.md, "Local platform". On the platform the init scripts run
-- as `postgres` while it is still a superuser and are then followed by the demotion
-- (10000000000000_demote-postgres.sql): that is why the database, the extensions schema, the
-- publication and the default privileges `for role postgres` belong to postgres below.

-- ---------------------------------------------------------------------------------------------
-- Roles
-- ---------------------------------------------------------------------------------------------
do $$
begin
  if not exists (select from pg_roles where rolname = 'postgres') then
    create role postgres login password 'postgres';
  end if;
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit password 'postgres';
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin login noinherit noreplication;
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_replication_admin') then
    create role supabase_replication_admin login replication;
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_read_only_user') then
    create role supabase_read_only_user login bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'dashboard_user') then
    create role dashboard_user nosuperuser createdb createrole replication;
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_superuser') then
    create role supabase_superuser nologin;
  end if;
end
$$;

-- The hosted attributes (demote-postgres.sql): not a superuser.
alter role postgres nosuperuser createdb createrole login replication bypassrls;
-- 20230529180330_alter_api_roles_for_inherit.sql: the API roles are INHERIT on current images.
alter role anon inherit;
alter role authenticated inherit;
alter role service_role inherit bypassrls;
-- PostgREST logs in as authenticator and switches into the API roles.
alter role authenticator noinherit login;
-- 20260821154147_revoke_createrole_from_auth_admin.sql.
alter role supabase_auth_admin nocreaterole;
grant pg_read_all_data to supabase_read_only_user;

grant anon, authenticated, service_role to authenticator;
-- postgres's memberships: 20230201083204_grant_auth_roles_to_postgres.sql,
-- 20240606060239_grant_predefined_roles_to_postgres.sql, 20230713185014_add_supabase_superuser.sql
-- (pg_monitor and pg_signal_backend through supabase_superuser; the admin roles of auth,
-- storage and realtime were revoked from postgres in 2024-2025).
grant anon, authenticated, service_role to postgres;
grant pg_read_all_data, pg_signal_backend to postgres;
grant pg_monitor, pg_signal_backend to supabase_superuser;
grant supabase_superuser to postgres;
-- 20251105172723_grant_pg_reload_conf_to_postgres.sql
grant execute on function pg_catalog.pg_reload_conf() to postgres;

-- Supabase's API roles carry these timeouts (role settings apply to sessions that log in as them).
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role postgres set search_path to "$user", public, extensions;

-- The database belongs to postgres (migrate.sh: `alter database postgres owner to postgres`), so
-- it may create schemas and owns `public` (pg_database_owner).
alter database postgres owner to postgres;
grant all on database postgres to postgres;

-- ---------------------------------------------------------------------------------------------
-- Schemas and extensions
-- ---------------------------------------------------------------------------------------------
create schema if not exists extensions;
alter schema extensions owner to postgres;
grant usage on schema extensions to anon, authenticated, service_role;
grant all on schema extensions to postgres;

create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
-- Hosted Supabase preloads pg_stat_statements and creates it in `extensions` for every project
-- (the dashboard's Query Performance and `supabase inspect db outliers` read it); postgres reads
-- every role's statistics there (pg_read_all_stats, through supabase_superuser's pg_monitor) and
-- may reset them. bench/edge.ts reads it for the statements of a tab sync.
create extension if not exists pg_stat_statements with schema extensions;
grant execute on function extensions.pg_stat_statements_reset(oid, oid, bigint) to postgres;

-- 00000000000001-auth-schema.sql: auth belongs to the platform; postgres keeps USAGE (CREATE was
-- revoked in 20250421084701_revoke_admin_roles_from_postgres.sql).
create schema if not exists auth authorization supabase_admin;
grant usage on schema auth to anon, authenticated, service_role, postgres;
grant all on schema auth to supabase_auth_admin;
revoke create on schema auth from postgres;
alter role supabase_auth_admin set search_path = auth;

-- GoTrue's migrations (20220224000811_update_auth_functions, 20220531120530_add_auth_jwt_function),
-- owned by supabase_auth_admin (20211124212715_update-auth-owner.sql). Executable by PUBLIC.
\ir auth_functions.sql

create or replace function auth.email() returns text
language sql stable
as $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';

alter function auth.jwt() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
-- demote-postgres.sql: GRANT ALL ON ALL ROUTINES IN SCHEMA auth TO postgres.
grant all on all routines in schema auth to postgres;

-- ---------------------------------------------------------------------------------------------
-- Default privileges (00000000000000-initial-schema.sql): whatever postgres or supabase_admin
-- creates in public is granted to the API roles; every migration of ours revokes first and grants
-- explicitly because of this.
-- ---------------------------------------------------------------------------------------------
-- As PostgreSQL 15 creates it (a scratch cluster's tests may have dropped and re-created it).
alter schema public owner to pg_database_owner;
grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on sequences to postgres, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Platform event triggers (00000000000003-post-setup.sql and PostgREST's schema-cache watchers),
-- owned by supabase_admin as on the platform (20250402065937_alter_internal_event_triggers_owner
-- _to_supabase_admin.sql). They fire for postgres; a restore as postgres must leave them alone.
-- ---------------------------------------------------------------------------------------------
create or replace function extensions.pgrst_ddl_watch() returns event_trigger
language plpgsql
as $$
declare
  cmd record;
begin
  for cmd in select * from pg_event_trigger_ddl_commands()
  loop
    if cmd.command_tag in (
      'CREATE SCHEMA', 'ALTER SCHEMA', 'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE',
      'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE', 'CREATE VIEW', 'ALTER VIEW',
      'CREATE MATERIALIZED VIEW', 'ALTER MATERIALIZED VIEW', 'CREATE FUNCTION', 'ALTER FUNCTION',
      'CREATE TRIGGER', 'CREATE TYPE', 'ALTER TYPE', 'CREATE RULE', 'COMMENT')
      and cmd.schema_name is distinct from 'pg_temp'
    then
      notify pgrst, 'reload schema';
    end if;
  end loop;
end;
$$;

create or replace function extensions.pgrst_drop_watch() returns event_trigger
language plpgsql
as $$
declare
  obj record;
begin
  for obj in select * from pg_event_trigger_dropped_objects()
  loop
    if obj.object_type in ('schema', 'table', 'foreign table', 'view', 'materialized view',
                           'function', 'trigger', 'type', 'rule')
      and obj.is_temporary is false
    then
      notify pgrst, 'reload schema';
    end if;
  end loop;
end;
$$;

do $$
begin
  if not exists (select from pg_event_trigger where evtname = 'pgrst_ddl_watch') then
    create event trigger pgrst_ddl_watch on ddl_command_end execute procedure extensions.pgrst_ddl_watch();
  end if;
  if not exists (select from pg_event_trigger where evtname = 'pgrst_drop_watch') then
    create event trigger pgrst_drop_watch on sql_drop execute procedure extensions.pgrst_drop_watch();
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Realtime: the publication exists, empty, owned by postgres.
-- ---------------------------------------------------------------------------------------------
do $$
begin
  if not exists (select from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;
alter publication supabase_realtime owner to postgres;
