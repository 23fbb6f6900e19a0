-- Rollback of 20261121100400_workspace_history.sql. Destructive: drops public.workspace_history.
drop trigger if exists projects_history on public.projects;
drop trigger if exists workspace_tabs_history_insert on public.workspace_tabs;
drop trigger if exists workspace_tabs_history_update on public.workspace_tabs;
drop trigger if exists workspace_tabs_history_delete on public.workspace_tabs;
drop function if exists private.record_project_history();
drop function if exists private.record_tab_history();
drop table if exists public.workspace_history;
