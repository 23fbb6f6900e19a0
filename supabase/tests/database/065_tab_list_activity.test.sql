-- last_active_at moves with tabs_version (migration 20261202160100): the If-Match bump of a tab sync
-- writes the activity time in its own row version, so the tab history trigger that follows does not
-- write the project row a second time; never backwards; a client still cannot set it itself.
begin;
set search_path = public, extensions, tests;

select plan(6);

select tests.create_user('act') as owner \gset
insert into projects (user_id, name) values (:'owner', 'Activity') returning id as project \gset
insert into workspace_tabs (project_id, user_id, position, title, kind)
select :'project', :'owner', g, 'Tab ' || g, 'notes' from generate_series(0, 2) g;
update projects set last_active_at = '2000-01-01T00:00:00Z' where id = :'project';

-- Every write of the project row is counted by a test-only trigger (rolled back with the test).
create function tests.count_project_writes() returns trigger language plpgsql as $$
begin
  perform set_config('tests.project_writes',
    (coalesce(nullif(current_setting('tests.project_writes', true), ''), '0')::int + 1)::text, true);
  return null;
end;
$$;
create trigger zz_count_project_writes after update on projects
  for each row execute function tests.count_project_writes();

-- The sync's shape: bump first, then the tab changes, in one statement as the owner.
select tests.authenticate_as(:'owner');
select tabs_version as v0 from projects where id = :'project' \gset
with bumped as (
  update projects set tabs_version = tabs_version + 1 where id = :'project' and tabs_version = :v0 returning id
)
update workspace_tabs w set position = 2 - w.position from bumped b where w.project_id = b.id;
select tests.clear_authentication();
select results_eq(format($$ select last_active_at from projects where id = %L $$, :'project'),
  $$ select now() $$, 'the bump moved last_active_at to now()');
select is(current_setting('tests.project_writes'), '1',
  'the project row was written once: the history trigger found last_active_at already moved');
select is((select count(*)::int from workspace_history where project_id = :'project' and action = 'tabs.reordered'),
  1, 'the history event is still written');

-- A tab change after the bump in the same transaction (tabs_version moves once per transaction):
-- last_active_at is already now(), nothing more is written.
select set_config('tests.project_writes', '0', true);
select tests.authenticate_as(:'owner');
update workspace_tabs set title = 'Renamed' where project_id = :'project' and position = 0;
select tests.clear_authentication();
select is(current_setting('tests.project_writes'), '0', 'a later tab change writes the project row no more');

-- Never backwards.
update projects set last_active_at = now() + interval '1 hour' where id = :'project';
update projects set tabs_version = tabs_version + 1 where id = :'project';
select results_eq(format($$ select last_active_at from projects where id = %L $$, :'project'),
  $$ select now() + interval '1 hour' $$, 'a later last_active_at stays');

-- Still not the client's to set.
select tests.authenticate_as(:'owner');
select throws_ok(format($$ update projects set last_active_at = now() where id = %L $$, :'project'),
  '42501', null, 'a client cannot set last_active_at itself');
select tests.clear_authentication();

select * from finish();
rollback;
