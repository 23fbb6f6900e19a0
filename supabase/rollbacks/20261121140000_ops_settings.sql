-- Rollback of 20261121140000_ops_settings.sql. Destructive: drops ops.settings (changed retention
-- values are lost; the migration re-creates the defaults). The project restore window returns to
-- its literal 30 days.
create or replace function private.project_restore_window()
returns interval
language sql
stable
security invoker
set search_path = ''
as $$
  select interval '30 days'
$$;
comment on function private.project_restore_window() is
  'Retention of soft-deleted projects: restorable within it, purged after it.';

drop table if exists ops.settings;
drop function if exists ops.setting_int(text);
drop function if exists ops.setting_interval(text);
drop function if exists ops.validate_setting();
drop schema if exists ops;
