-- Rollback of 20261121130200_audit_capture.sql. Stops automatic capture: drops the audit
-- triggers on the user tables and their functions. Entries already written stay.
drop trigger if exists users_audit_insert on public.users;
drop trigger if exists users_audit_update on public.users;
drop trigger if exists users_audit_delete on public.users;
drop trigger if exists users_audit_truncate on public.users;
drop trigger if exists users_audit_role_change on public.users;
drop trigger if exists users_audit_role_insert on public.users;
drop trigger if exists projects_audit_insert on public.projects;
drop trigger if exists projects_audit_update on public.projects;
drop trigger if exists projects_audit_delete on public.projects;
drop trigger if exists projects_audit_truncate on public.projects;
drop trigger if exists workspace_tabs_audit_insert on public.workspace_tabs;
drop trigger if exists workspace_tabs_audit_update on public.workspace_tabs;
drop trigger if exists workspace_tabs_audit_delete on public.workspace_tabs;
drop trigger if exists workspace_tabs_audit_truncate on public.workspace_tabs;
drop trigger if exists workspace_history_audit_insert on public.workspace_history;
drop trigger if exists workspace_history_audit_update on public.workspace_history;
drop trigger if exists workspace_history_audit_delete on public.workspace_history;
drop trigger if exists workspace_history_audit_truncate on public.workspace_history;
drop function if exists audit.capture_role_change();
drop function if exists audit.capture_automation_write();
