-- Supabase's pg_cron after-create script, run by supautils (here: supautils_shim) as the platform
-- superuser right after `create extension pg_cron` by postgres. Mirrors
-- supabase/postgres ansible/files/postgresql_extension_custom_scripts/pg_cron/after-create.sql and
-- migration 20260730000000_revoke_trigger_on_cron_tables_from_postgres.sql:
-- the extension lives in pg_catalog (its objects in schema cron), postgres gets usage on the schema
-- and ALL on the functions and tables with grant option, except cron.job (SELECT only: jobs change
-- through cron.schedule/unschedule) and TRIGGER on cron.job_run_details. No sequence is granted
-- (cron.jobid_seq and cron.runid_seq stay the superuser's), only future ones by default privilege.
drop extension pg_cron;
create extension pg_cron schema pg_catalog;

grant usage on schema cron to postgres with grant option;
grant all on all functions in schema cron to postgres with grant option;

alter default privileges for user supabase_admin in schema cron grant all
    on sequences to postgres with grant option;
alter default privileges for user supabase_admin in schema cron grant all
    on tables to postgres with grant option;
alter default privileges for user supabase_admin in schema cron grant all
    on functions to postgres with grant option;

grant all privileges on all tables in schema cron to postgres with grant option;
revoke all on table cron.job from postgres;
grant select on table cron.job to postgres with grant option;
revoke trigger on cron.job_run_details from postgres;
