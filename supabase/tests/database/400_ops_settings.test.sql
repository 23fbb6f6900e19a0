-- ops.settings: one row per retention / batching setting with its default, typed accessors,
-- validation on write (type, positive, minimum), the restore window of the API reading the same
-- setting as the purge job, and no access for any API role.
begin;
set search_path = public, extensions, tests;

select plan(25);

-- ---------------------------------------------------------------------------------------------
-- Structure and defaults
-- ---------------------------------------------------------------------------------------------
select has_schema('ops', 'schema ops exists');
select has_table('ops', 'settings', 'ops.settings exists');
select results_eq(
  $$ select key, value, value_type, minimum from ops.settings
      where key in ('project_retention', 'workspace_history_retention', 'webhook_inbox_retention',
                    'user_inactive_after', 'cron_history_retention', 'cleanup_batch_size', 'cleanup_max_batches')
      order by key $$,
  $$ values
       ('cleanup_batch_size'::text, '5000'::text, 'integer'::text, '1'::text),
       ('cleanup_max_batches', '20', 'integer', '1'),
       ('cron_history_retention', '14 days', 'interval', '1 day'),
       ('project_retention', '30 days', 'interval', '1 day'),
       ('user_inactive_after', '180 days', 'interval', '1 day'),
       ('webhook_inbox_retention', '30 days', 'interval', '30 days'),
       ('workspace_history_retention', '90 days', 'interval', '1 day') $$,
  'every lifecycle setting has its documented default');
select is(
  (select count(*)::int from ops.settings where description is null or description = ''),
  0, 'every setting is described');

-- ---------------------------------------------------------------------------------------------
-- Accessors
-- ---------------------------------------------------------------------------------------------
select is(ops.setting_interval('project_retention'), interval '30 days', 'setting_interval reads an interval');
select is(ops.setting_int('cleanup_batch_size'), 5000, 'setting_int reads an integer');
select throws_ok($$ select ops.setting_interval('no_such_setting') $$, 'P0002', null,
  'a missing key raises P0002');
select throws_ok($$ select ops.setting_interval('cleanup_batch_size') $$, 'P0002', null,
  'an integer read as an interval raises P0002');
select throws_ok($$ select ops.setting_int('project_retention') $$, 'P0002', null,
  'an interval read as an integer raises P0002');

-- ---------------------------------------------------------------------------------------------
-- Validation on write
-- ---------------------------------------------------------------------------------------------
select throws_ok($$ update ops.settings set value = 'thirty days' where key = 'project_retention' $$,
  '22007', null, 'an interval that does not parse is refused');
select throws_ok($$ update ops.settings set value = '-1 day' where key = 'project_retention' $$,
  '22023', null, 'a negative retention is refused');
select throws_ok($$ update ops.settings set value = '29 days' where key = 'webhook_inbox_retention' $$,
  '22023', 'setting webhook_inbox_retention must be at least 30 days',
  'the webhook inbox keeps at least 30 days');
select throws_ok($$ update ops.settings set value = '0' where key = 'cleanup_batch_size' $$,
  '22023', null, 'a zero batch size is refused');
select throws_ok($$ update ops.settings set value = 'many' where key = 'cleanup_batch_size' $$,
  '22P02', null, 'an integer that does not parse is refused');
select throws_ok($$ insert into ops.settings (key, value, value_type, description) values ('Bad Key', '1', 'integer', 'x') $$,
  '23514', null, 'keys are snake_case');
select lives_ok($$ update ops.settings set value = '45 days' where key = 'webhook_inbox_retention' $$,
  'a longer inbox retention is accepted');
select is(ops.setting_interval('webhook_inbox_retention'), interval '45 days', 'and read back');

-- ---------------------------------------------------------------------------------------------
-- The API's restore window is the purge job's retention
-- ---------------------------------------------------------------------------------------------
select is(private.project_restore_window(), interval '30 days', 'restore window = project_retention (default)');
update ops.settings set value = '7 days' where key = 'project_retention';
select is(private.project_restore_window(), interval '7 days', 'restore window follows the setting');
select tests.authenticate_as(tests.create_user('opsrw'));
select is(private.project_restore_window(), interval '7 days',
  'authenticated (the API restore route) reads it without access to ops.settings');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------
-- No API role reaches the settings
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.create_user('opsset'));
select throws_ok($$ select * from ops.settings $$, '42501', null, 'authenticated cannot read ops.settings');
select throws_ok($$ select ops.setting_interval('project_retention') $$, '42501', null,
  'authenticated cannot call the accessors');
select tests.clear_authentication();

select tests.authenticate_as_anon();
select throws_ok($$ select * from ops.settings $$, '42501', null, 'anon cannot read ops.settings');
select tests.clear_authentication();

select tests.authenticate_as_service_role();
select throws_ok($$ select * from ops.settings $$, '42501', null, 'service_role cannot read ops.settings');
select throws_ok($$ update ops.settings set value = '1 day' where key = 'project_retention' $$, '42501', null,
  'service_role cannot change a retention');
select tests.clear_authentication();

select * from finish();
rollback;
