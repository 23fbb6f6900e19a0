-- Rollback of 20261201100000_data_api_project_rules: the project rules live in the functions'
-- SQL only again (a direct Data API write can skip them).
drop trigger if exists workspace_tabs_version_insert on public.workspace_tabs;
drop trigger if exists workspace_tabs_version_update on public.workspace_tabs;
drop trigger if exists workspace_tabs_version_delete on public.workspace_tabs;
drop function if exists private.follow_tab_list_change();
drop function if exists private.tabs_version_bumped(uuid);
drop trigger if exists projects_note_tabs_version_bump on public.projects;
drop function if exists private.note_tabs_version_bump();
drop table if exists private.tabs_version_bumps;
drop trigger if exists projects_guard_change on public.projects;
drop function if exists private.guard_project_change();

comment on column public.projects.tabs_version is 'Incremented by every tab-list replacement; clients send it back in If-Match.';
comment on column public.projects.deleted_at is null;
