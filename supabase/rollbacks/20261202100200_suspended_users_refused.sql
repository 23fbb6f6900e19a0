-- Rollback of 20261202100200_suspended_users_refused.sql: bans and locks are no longer enforced
-- by the database (the columns stay; migration 20261202100000's rollback drops them).

drop policy workspace_history_select_authenticated_not_suspended on public.workspace_history;
drop policy workspace_tabs_delete_authenticated_not_suspended on public.workspace_tabs;
drop policy workspace_tabs_update_authenticated_not_suspended on public.workspace_tabs;
drop policy workspace_tabs_insert_authenticated_not_suspended on public.workspace_tabs;
drop policy workspace_tabs_select_authenticated_not_suspended on public.workspace_tabs;
drop policy projects_update_authenticated_not_suspended on public.projects;
drop policy projects_insert_authenticated_not_suspended on public.projects;
drop policy projects_select_authenticated_not_suspended on public.projects;
drop policy users_update_authenticated_not_suspended on public.users;
drop policy users_insert_authenticated_not_suspended on public.users;
drop policy users_select_authenticated_not_suspended on public.users;

drop function private.data_api_pre_request();
drop function private.refuse_suspended_caller();
drop function private.caller_is_suspended();
