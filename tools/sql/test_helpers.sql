-- Test-only helpers for the pgTAP suite, applied by tools/test.sh before pg_prove (never a
-- migration, never on a real project). Idempotent.
create extension if not exists pgtap with schema extensions;

create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- Act as a signed-in Clerk user: the PostgREST shape (role + request.jwt.claims), local to the
-- current transaction. Extra claims (email, azp...) may be merged in.
create or replace function tests.authenticate_as(user_id text, extra_claims jsonb default '{}'::jsonb)
returns void
language sql
set search_path = ''
as $$
  select set_config('request.jwt.claims',
           (jsonb_build_object('sub', user_id, 'role', 'authenticated') || extra_claims)::text, true),
         set_config('role', 'authenticated', true),
         -- A new request: forget the suspension check an earlier "request" of this test
         -- transaction passed (private.refuse_suspended_caller, checked once per transaction).
         set_config('private.caller_cleared', '', true);
$$;

-- Act as an anonymous caller (no token).
create or replace function tests.authenticate_as_anon()
returns void
language sql
set search_path = ''
as $$
  select set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('role', 'anon', true);
$$;

-- Act as automation with the service role key.
create or replace function tests.authenticate_as_service_role()
returns void
language sql
set search_path = ''
as $$
  select set_config('request.jwt.claims', '{"role":"service_role"}', true),
         set_config('role', 'service_role', true);
$$;

-- Back to the migration owner (postgres), clearing claims.
create or replace function tests.clear_authentication()
returns void
language sql
set search_path = ''
as $$
  select set_config('role', 'postgres', true), set_config('request.jwt.claims', '', true);
$$;

-- A random id: `prefix` and 32 hex digits ('user_jit' -> a Clerk-shaped user id, 'msg_' -> a
-- svix id). Random ids keep tests apart from each other and from the seed.
create or replace function tests.random_id(prefix text)
returns text
language sql
volatile
set search_path = ''
as $$
  select prefix || replace(gen_random_uuid()::text, '-', '');
$$;

-- Create a user row directly (as the owner), returning its id. Random suffix keeps tests apart.
create or replace function tests.create_user(prefix text default 'test', user_role text default 'user')
returns text
language plpgsql
set search_path = ''
as $$
declare
  new_id text := tests.random_id('user_' || prefix);
begin
  insert into public.users (id, role) values (new_id, user_role);
  return new_id;
end;
$$;


-- An explicit runid for a test's cron.job_run_details row. On Supabase, pg_cron's after-create
-- script grants postgres ALL on cron.job_run_details but nothing on cron.runid_seq, so the
-- column default (nextval) is denied to postgres; tests name the runid instead. Above anything
-- pg_cron has used (and above the rows inserted before in the same transaction, so successive
-- calls follow pg_cron's order), and far enough above that pg_cron's own next runs never reach it
-- while a test's row exists.
create or replace function tests.cron_runid()
returns bigint
language sql
volatile
set search_path = ''
as $$
  select greatest((select s.last_value from cron.runid_seq s),
                  (select coalesce(max(d.runid), 0) from cron.job_run_details d)) + 1000000;
$$;
-- pgTAP: `statement` is refused because the current role holds no privilege for it on
-- `table_name` (42501, PostgreSQL's "permission denied for table ..."): a grant, not a policy, says no.
-- The search_path of these two is the test files' own (`set search_path = public, extensions,
-- tests`): pgTAP's functions call each other unqualified, and so do the statements under test.
create or replace function tests.permission_denied(table_name text, statement text, description text)
returns text
language sql
set search_path = public, extensions, tests
as $$
  select extensions.throws_ok(statement, '42501', 'permission denied for table ' || table_name, description);
$$;

-- pgTAP: audit.verify(after_id) finds the chain broken and names `bad_id` as the first bad entry.
create or replace function tests.verify_fails_at(after_id bigint, bad_id bigint, description text)
returns text
language sql
set search_path = public, extensions, tests
as $$
  select extensions.results_eq(format('select ok, first_bad_id from audit.verify(%s)', after_id),
                               format('values (false, %s::bigint)', bad_id), description);
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;
revoke all on function tests.cron_runid() from public, anon, authenticated, service_role;
