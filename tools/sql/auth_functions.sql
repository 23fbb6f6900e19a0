-- auth.jwt(), auth.role() and auth.uid() with GoTrue's bodies (its migrations
-- 20220224000811_update_auth_functions and 20220531120530_add_auth_jwt_function), owned by whoever
-- runs this: included (psql \ir) by platform_bootstrap.sql, which then hands them to
-- supabase_auth_admin as on Supabase, and by restore_scratch_prerequisites.sql (owned by postgres
-- there). auth.uid() is present because Supabase has it; our code never calls it (Clerk ids are
-- not uuids). Idempotent.
create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select
    coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
