-- Purpose: automatic audit capture in the user tables.
--   1. Writes made by automation: the service role (webhook syncs, DSAR jobs; actor from the
--      `actor` claim that withServiceRole sets) or a database session without a user (cron jobs,
--      maintenance, migrations). One entry per top-level statement, ids only:
--      data.insert | data.update | data.delete | data.truncate, details {"count": n, "ids": [...]}
--      (first 100 ids, as strings). Users' own writes (authenticated, under RLS) are not audited:
--      workspace_history covers them. Rows written by other triggers (history events) are implied
--      by the statement that fired them and not repeated; foreign-key cascades (a user's projects,
--      tabs and history) get entries of their own.
--   2. Role changes, whoever makes them: user.role.changed with {"from", "to"} (roles are not
--      personal data); a user created with a staff role counts as a change from null.
-- All these triggers are enabled ALWAYS, so session_replication_role = replica does not skip them.
-- Objects: functions audit.capture_automation_write(), audit.capture_role_change(); triggers
-- <table>_audit_{insert,update,delete,truncate} on public.users, public.projects,
-- public.workspace_tabs, public.workspace_history; users_audit_role_{change,insert}.
-- Destructive: nothing.

create function audit.capture_automation_write()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  acting_role text := current_setting('role');
  claims jsonb;
  row_count bigint;
  ids jsonb;
  details jsonb;
begin
  -- Cheapest test first: the API's user requests leave at once. Depth > 1: written by another
  -- trigger (history events), implied by the entry of the statement that fired it.
  if acting_role in ('authenticated', 'anon') or pg_catalog.pg_trigger_depth() > 1 then
    return null;
  end if;
  if acting_role <> 'service_role' then
    claims := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
    if coalesce(claims ->> 'sub', '') <> '' then
      return null;  -- a database session acting for a signed-in user, not automation
    end if;
  end if;

  if tg_op = 'TRUNCATE' then
    perform audit.append('data.truncate', tg_table_schema, tg_table_name, null, '{}'::jsonb);
    return null;
  elsif tg_op = 'DELETE' then
    select count(*) into row_count from old_rows;
    select jsonb_agg(s.id) into ids from (select o.id::text as id from old_rows o limit 100) s;
  else
    select count(*) into row_count from new_rows;
    select jsonb_agg(s.id) into ids from (select n.id::text as id from new_rows n limit 100) s;
  end if;

  if row_count = 0 then
    return null;  -- a cleanup that found nothing is not an action on a record
  end if;
  details := jsonb_build_object('count', row_count, 'ids', ids);
  if row_count > 100 then
    details := details || '{"ids_truncated": true}'::jsonb;
  end if;
  perform audit.append('data.' || lower(tg_op), tg_table_schema, tg_table_name,
                       case when row_count = 1 then ids ->> 0 end, details);
  return null;
end;
$$;
comment on function audit.capture_automation_write() is
  'AFTER statement trigger: one audit entry (ids and count) per top-level write by the service role or a database session without a user; users'' own writes are skipped.';

create function audit.capture_role_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform audit.append('user.role.changed', tg_table_schema, tg_table_name, new.id,
    jsonb_build_object('from', case when tg_op = 'UPDATE' then old.role end, 'to', new.role));
  return null;
end;
$$;
comment on function audit.capture_role_change() is
  'AFTER row trigger on public.users: records every role change (from/to) with the acting user or automation.';

revoke all on function audit.capture_automation_write(), audit.capture_role_change()
  from public, anon, authenticated, service_role;

-- public.users
create trigger users_audit_insert after insert on public.users
  referencing new table as new_rows for each statement execute function audit.capture_automation_write();
create trigger users_audit_update after update on public.users
  referencing old table as old_rows new table as new_rows for each statement execute function audit.capture_automation_write();
create trigger users_audit_delete after delete on public.users
  referencing old table as old_rows for each statement execute function audit.capture_automation_write();
create trigger users_audit_truncate after truncate on public.users
  for each statement execute function audit.capture_automation_write();
create trigger users_audit_role_change after update of role on public.users
  for each row when (old.role is distinct from new.role) execute function audit.capture_role_change();
create trigger users_audit_role_insert after insert on public.users
  for each row when (new.role <> 'user') execute function audit.capture_role_change();

-- public.projects
create trigger projects_audit_insert after insert on public.projects
  referencing new table as new_rows for each statement execute function audit.capture_automation_write();
create trigger projects_audit_update after update on public.projects
  referencing old table as old_rows new table as new_rows for each statement execute function audit.capture_automation_write();
create trigger projects_audit_delete after delete on public.projects
  referencing old table as old_rows for each statement execute function audit.capture_automation_write();
create trigger projects_audit_truncate after truncate on public.projects
  for each statement execute function audit.capture_automation_write();

-- public.workspace_tabs
create trigger workspace_tabs_audit_insert after insert on public.workspace_tabs
  referencing new table as new_rows for each statement execute function audit.capture_automation_write();
create trigger workspace_tabs_audit_update after update on public.workspace_tabs
  referencing old table as old_rows new table as new_rows for each statement execute function audit.capture_automation_write();
create trigger workspace_tabs_audit_delete after delete on public.workspace_tabs
  referencing old table as old_rows for each statement execute function audit.capture_automation_write();
create trigger workspace_tabs_audit_truncate after truncate on public.workspace_tabs
  for each statement execute function audit.capture_automation_write();

-- public.workspace_history
create trigger workspace_history_audit_insert after insert on public.workspace_history
  referencing new table as new_rows for each statement execute function audit.capture_automation_write();
create trigger workspace_history_audit_update after update on public.workspace_history
  referencing old table as old_rows new table as new_rows for each statement execute function audit.capture_automation_write();
create trigger workspace_history_audit_delete after delete on public.workspace_history
  referencing old table as old_rows for each statement execute function audit.capture_automation_write();
create trigger workspace_history_audit_truncate after truncate on public.workspace_history
  for each statement execute function audit.capture_automation_write();

alter table public.users enable always trigger users_audit_insert;
alter table public.users enable always trigger users_audit_update;
alter table public.users enable always trigger users_audit_delete;
alter table public.users enable always trigger users_audit_truncate;
alter table public.users enable always trigger users_audit_role_change;
alter table public.users enable always trigger users_audit_role_insert;
alter table public.projects enable always trigger projects_audit_insert;
alter table public.projects enable always trigger projects_audit_update;
alter table public.projects enable always trigger projects_audit_delete;
alter table public.projects enable always trigger projects_audit_truncate;
alter table public.workspace_tabs enable always trigger workspace_tabs_audit_insert;
alter table public.workspace_tabs enable always trigger workspace_tabs_audit_update;
alter table public.workspace_tabs enable always trigger workspace_tabs_audit_delete;
alter table public.workspace_tabs enable always trigger workspace_tabs_audit_truncate;
alter table public.workspace_history enable always trigger workspace_history_audit_insert;
alter table public.workspace_history enable always trigger workspace_history_audit_update;
alter table public.workspace_history enable always trigger workspace_history_audit_delete;
alter table public.workspace_history enable always trigger workspace_history_audit_truncate;
