-- public.workspace_history: every verb tried by every actor (owner, stranger, anon, service role).
-- History is append-only and written by triggers: owners read their own events; nobody writes
-- through `authenticated`; the service role (automation) may read and append, nothing more.
begin;
set search_path = public, extensions, tests;

select plan(25);

-- ---------------------------------------------------------------------------------------------
-- Fixtures (as postgres). Creating a project and a tab writes project.created and tab.created.
-- ---------------------------------------------------------------------------------------------
select tests.create_user('owner') as owner \gset
select tests.create_user('stranger') as stranger \gset

insert into projects (user_id, name) values (:'owner', 'Owner project')
returning id as owner_project \gset
insert into projects (user_id, name) values (:'stranger', 'Stranger project')
returning id as stranger_project \gset
insert into workspace_tabs (project_id, user_id, position, title, kind)
values (:'owner_project', :'owner', 0, 'Owner tab', 'brief')
returning id as owner_tab \gset

select id as owner_event from workspace_history
 where project_id = :'owner_project' and action = 'project.created' \gset

-- ---------------------------------------------------------------------------------------------
-- owner
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'owner');

select results_eq(
  format($$ select action, tab_id from workspace_history where project_id = %L order by id $$, :'owner_project'),
  format($$ values ('project.created', null::uuid), ('tab.created', %L::uuid) $$, :'owner_tab'),
  'owner: select returns the history of their own project'
);

select is_empty(
  format($$ select id from workspace_history where user_id <> %L $$, :'owner'),
  'owner: select sees no history of any other user'
);

select tests.permission_denied('workspace_history', format($$ insert into workspace_history (project_id, user_id, action)
            values (%L, %L, 'project.forged') $$, :'owner_project', :'owner'),
  'owner: insert into their own history is refused');

select tests.permission_denied('workspace_history', format($$ update workspace_history set action = 'project.forged' where id = %s $$, :'owner_event'),
  'owner: update of their own history is refused');

select tests.permission_denied('workspace_history', format($$ delete from workspace_history where id = %s $$, :'owner_event'),
  'owner: delete of their own history is refused');

select tests.clear_authentication();
select results_eq(
  format($$ select action from workspace_history where project_id = %L order by id $$, :'owner_project'),
  $$ values ('project.created'), ('tab.created') $$,
  'owner: after the refused attempts the history is unchanged'
);

-- ---------------------------------------------------------------------------------------------
-- stranger (acting on the owner's history)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'stranger');

select is_empty(
  format($$ select id from workspace_history where project_id = %L or user_id = %L $$, :'owner_project', :'owner'),
  'stranger: select of the owner''s history returns nothing'
);

select results_eq(
  format($$ select action from workspace_history where project_id = %L $$, :'stranger_project'),
  $$ values ('project.created') $$,
  'stranger: sees their own history'
);

select tests.permission_denied('workspace_history', format($$ insert into workspace_history (project_id, user_id, action)
            values (%L, %L, 'project.forged') $$, :'owner_project', :'owner'),
  'stranger: insert into the owner''s history is refused');

select tests.permission_denied('workspace_history', format($$ update workspace_history set action = 'project.forged' where id = %s $$, :'owner_event'),
  'stranger: update of the owner''s history is refused');

select tests.permission_denied('workspace_history', format($$ delete from workspace_history where id = %s $$, :'owner_event'),
  'stranger: delete of the owner''s history is refused');

select tests.clear_authentication();
select results_eq(
  format($$ select action from workspace_history where project_id = %L order by id $$, :'owner_project'),
  $$ values ('project.created'), ('tab.created') $$,
  'stranger: the owner''s history is unchanged'
);

-- ---------------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();

select tests.permission_denied('workspace_history', format($$ select id from workspace_history where project_id = %L $$, :'owner_project'),
  'anon: select is refused');

select tests.permission_denied('workspace_history', format($$ insert into workspace_history (project_id, user_id, action)
            values (%L, %L, 'project.forged') $$, :'owner_project', :'owner'),
  'anon: insert is refused');

select tests.permission_denied('workspace_history', format($$ update workspace_history set action = 'project.forged' where id = %s $$, :'owner_event'),
  'anon: update is refused');

select tests.permission_denied('workspace_history', format($$ delete from workspace_history where id = %s $$, :'owner_event'),
  'anon: delete is refused');

select tests.clear_authentication();
select results_eq(
  format($$ select action from workspace_history where project_id = %L order by id $$, :'owner_project'),
  $$ values ('project.created'), ('tab.created') $$,
  'anon: the owner''s history is unchanged'
);

-- ---------------------------------------------------------------------------------------------
-- service role (automation: reads and appends; history stays append-only)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();

select results_eq(
  format($$ select action from workspace_history where project_id in (%L, %L) order by id $$,
         :'owner_project', :'stranger_project'),
  $$ values ('project.created'), ('project.created'), ('tab.created') $$,
  'service role: select returns any user''s history'
);

select results_eq(
  format($$ insert into workspace_history (project_id, user_id, action, diff)
            values (%L, %L, 'project.exported', '{"format":"json"}') returning action, diff $$,
         :'owner_project', :'owner'),
  $$ values ('project.exported', '{"format":"json"}'::jsonb) $$,
  'service role: insert (append) succeeds'
);

select throws_ok(
  format($$ insert into workspace_history (project_id, user_id, action)
            values (%L, %L, 'project.exported') $$, :'owner_project', :'stranger'),
  '23503', null,
  'service role: an event whose user_id is not the project''s owner is refused (composite foreign key)'
);

select throws_ok(
  format($$ insert into workspace_history (project_id, user_id, action)
            values (%L, %L, 'Not An Action') $$, :'owner_project', :'owner'),
  '23514', null,
  'service role: an event with a malformed action is refused'
);

-- Append-only: the migration grants the service role select and insert only on this table.
select tests.permission_denied('workspace_history', format($$ update workspace_history set action = 'project.forged' where id = %s $$, :'owner_event'),
  'service role: update of history is refused (append-only)');

select tests.permission_denied('workspace_history', format($$ delete from workspace_history where id = %s $$, :'owner_event'),
  'service role: delete of history is refused (append-only)');

select tests.clear_authentication();
select results_eq(
  format($$ select action from workspace_history where project_id = %L order by id $$, :'owner_project'),
  $$ values ('project.created'), ('tab.created'), ('project.exported') $$,
  'service role: the appended event is stored and the earlier events are unchanged'
);

-- Table privileges, stated directly (the behaviour above follows from them).
select table_privs_are('public', 'workspace_history', 'service_role', array['SELECT', 'INSERT'],
  'service role: workspace_history privileges are exactly select and insert');

select * from finish();
rollback;
