-- Structure of the public schema: row-level security everywhere, one policy per verb for
-- `authenticated` only, `with check` on every write policy, and nothing granted to anon.
-- The catalog queries are generic (every table / relation of schema public), so a table added
-- later without RLS or with a grant to anon fails here without this file being edited.
begin;
set search_path = public, extensions, tests;

select plan(30);

-- What the generic checks below read (temporary views, gone with this transaction): the relations
-- of schema public, every policy on one of them with its table's name, the functions of private.
create temporary view public_relations as
  select * from pg_class where relnamespace = 'public'::regnamespace;
create temporary view public_policies as
  select c.relname, p.* from pg_policy p join public_relations c on c.oid = p.polrelid;
create temporary view private_functions as
  select * from pg_proc where pronamespace = 'private'::regnamespace;

-- ---------------------------------------------------------------------------------------------
-- Tables: the known set. A new table must be added here together with its policies_are below.
-- ---------------------------------------------------------------------------------------------
select tables_are(
  'public',
  array['users', 'projects', 'workspace_tabs', 'workspace_history'],
  'schema public has exactly the expected tables'
);

-- ---------------------------------------------------------------------------------------------
-- Row-level security is enabled on every table of schema public (generic)
-- ---------------------------------------------------------------------------------------------
select is_empty(
  $$ select c.relname
       from public_relations c
      where c.relkind in ('r', 'p')
        and not c.relrowsecurity $$,
  'every table of schema public has row level security enabled'
);

select isnt_empty(
  $$ select 1 from pg_tables where schemaname = 'public' $$,
  'the RLS check above really looked at tables'
);

-- ---------------------------------------------------------------------------------------------
-- Policies of each table
-- ---------------------------------------------------------------------------------------------
select policies_are('public', 'users', array[
  'users_select_authenticated',
  'users_insert_authenticated',
  'users_update_authenticated',
  'users_select_authenticated_not_suspended',
  'users_insert_authenticated_not_suspended',
  'users_update_authenticated_not_suspended'
], 'users: select/insert/update policies only (no delete policy), each with its restrictive not-suspended twin');

select policies_are('public', 'projects', array[
  'projects_select_authenticated',
  'projects_insert_authenticated',
  'projects_update_authenticated',
  'projects_select_authenticated_not_suspended',
  'projects_insert_authenticated_not_suspended',
  'projects_update_authenticated_not_suspended'
], 'projects: select/insert/update policies only (hard delete is the purge job''s)');

select policies_are('public', 'workspace_tabs', array[
  'workspace_tabs_select_authenticated',
  'workspace_tabs_insert_authenticated',
  'workspace_tabs_update_authenticated',
  'workspace_tabs_delete_authenticated',
  'workspace_tabs_select_authenticated_not_suspended',
  'workspace_tabs_insert_authenticated_not_suspended',
  'workspace_tabs_update_authenticated_not_suspended',
  'workspace_tabs_delete_authenticated_not_suspended'
], 'workspace_tabs: one policy per verb (and its restrictive not-suspended twin)');

select policies_are('public', 'workspace_history', array[
  'workspace_history_select_authenticated',
  'workspace_history_select_authenticated_not_suspended'
], 'workspace_history: select policy only (events are written by triggers)');

-- Verb of each policy (guards against a policy renamed onto another command).
select policy_cmd_is('public', 'users', 'users_select_authenticated', 'select', 'users select policy is for select');
select policy_cmd_is('public', 'users', 'users_insert_authenticated', 'insert', 'users insert policy is for insert');
select policy_cmd_is('public', 'users', 'users_update_authenticated', 'update', 'users update policy is for update');
select policy_cmd_is('public', 'workspace_tabs', 'workspace_tabs_delete_authenticated', 'delete',
  'workspace_tabs delete policy is for delete');

-- ---------------------------------------------------------------------------------------------
-- Policy shape (generic over every policy of schema public)
-- ---------------------------------------------------------------------------------------------
select is_empty(
  $$ select relname, polname
       from public_policies
      where polcmd = '*' $$,
  'no policy of schema public is FOR ALL'
);

select is_empty(
  $$ select relname, polname, polroles::regrole[]::text
       from public_policies
      where polroles <> array['authenticated'::regrole]::oid[] $$,
  'every policy of schema public applies TO authenticated only (not PUBLIC, not anon)'
);

select is_empty(
  $$ select relname, polname
       from public_policies
      where polcmd in ('a', 'w')
        and polwithcheck is null $$,
  'every insert/update policy of schema public has a WITH CHECK expression'
);

select is_empty(
  $$ select relname, polname
       from public_policies
      where polcmd in ('r', 'w', 'd')
        and polqual is null $$,
  'every select/update/delete policy of schema public has a USING expression'
);

select is_empty(
  $$ select relname, polname
       from public_policies
      where not polpermissive
        and not (polname ~ '_not_suspended$'
                 and coalesce(pg_get_expr(polqual, polrelid), '(NOT ( SELECT private.caller_is_suspended() AS caller_is_suspended))')
                     = '(NOT ( SELECT private.caller_is_suspended() AS caller_is_suspended))'
                 and coalesce(pg_get_expr(polwithcheck, polrelid), '(NOT ( SELECT private.caller_is_suspended() AS caller_is_suspended))')
                     = '(NOT ( SELECT private.caller_is_suspended() AS caller_is_suspended))') $$,
  'no restrictive policies (the model is: one permissive policy per verb) but the not-suspended twins (bans and locks, 20261202100200)'
);

-- ---------------------------------------------------------------------------------------------
-- anon: nothing granted on any table of schema public (generic)
-- ---------------------------------------------------------------------------------------------
select is_empty(
  $$ select table_name, grantee, privilege_type
       from information_schema.role_table_grants
      where table_schema = 'public'
        and grantee in ('anon', 'PUBLIC') $$,
  'information_schema: no table privilege of schema public is granted to anon or PUBLIC'
);

select is_empty(
  $$ select c.relname
       from public_relations c
      where c.relkind in ('r', 'p', 'v', 'm', 'f')
        and has_table_privilege('anon', c.oid,
              'select, insert, update, delete, truncate, references, trigger') $$,
  'anon holds no table privilege on any table or view of schema public'
);

select is_empty(
  $$ select c.relname
       from public_relations c
      where c.relkind in ('r', 'p', 'v', 'm', 'f')
        and has_any_column_privilege('anon', c.oid, 'select, insert, update, references') $$,
  'anon holds no column privilege on any table or view of schema public'
);

select is_empty(
  $$ select c.relname, a.privilege_type
       from public_relations c, aclexplode(c.relacl) a
      where a.grantee = 0 $$,
  'nothing in schema public is granted to PUBLIC'
);

-- Sequences too (workspace_history's identity sequence): anon must not be able to call
-- nextval/setval on them.
select is_empty(
  $$ select c.relname
       from public_relations c
      where c.relkind = 'S'
        -- case: has_sequence_privilege raises on non-sequences, whatever order the planner picks
        and case when c.relkind = 'S'
                 then has_sequence_privilege('anon', c.oid, 'usage, select, update') end $$,
  'anon holds no privilege on any sequence of schema public'
);

-- ---------------------------------------------------------------------------------------------
-- authenticated: table-level privileges (writes are column grants, checked per table file)
-- ---------------------------------------------------------------------------------------------
select table_privs_are('public', 'users', 'authenticated', array['SELECT'],
  'authenticated: users table privilege is select only (insert/update are column grants)');
select table_privs_are('public', 'projects', 'authenticated', array['SELECT'],
  'authenticated: projects table privilege is select only (insert/update are column grants, no delete)');
select table_privs_are('public', 'workspace_tabs', 'authenticated', array['SELECT', 'DELETE'],
  'authenticated: workspace_tabs table privileges are select and delete');
select table_privs_are('public', 'workspace_history', 'authenticated', array['SELECT'],
  'authenticated: workspace_history is read only');

-- ---------------------------------------------------------------------------------------------
-- Schema private: nothing for anon; authenticated calls the policy helpers, never a trigger function
-- ---------------------------------------------------------------------------------------------
select ok(
  not has_schema_privilege('anon', 'private', 'usage'),
  'anon has no usage on schema private'
);

select is_empty(
  $$ select p.oid::regprocedure
       from private_functions p
      where has_function_privilege('anon', p.oid, 'execute') $$,
  'anon can execute no function of schema private'
);

select is_empty(
  $$ select p.oid::regprocedure
       from private_functions p
      where p.prorettype = 'trigger'::regtype
        and has_function_privilege('authenticated', p.oid, 'execute') $$,
  'authenticated can execute no trigger function of schema private'
);

select ok(
  has_function_privilege('authenticated', 'private.is_staff()', 'execute')
    and has_function_privilege('authenticated', 'private.is_admin()', 'execute')
    and has_function_privilege('authenticated', 'private.current_user_role()', 'execute'),
  'authenticated can execute the policy helpers of schema private'
);

select is_empty(
  $$ select p.oid::regprocedure
       from private_functions p
      where p.prosecdef
        and not exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%') $$,
  'every security definer function of schema private pins its search_path'
);

select * from finish();
rollback;
