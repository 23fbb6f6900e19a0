-- Rollback of 20261202160100_tab_activity_with_version_bump: last_active_at moves only through the
-- tab history trigger again.
drop trigger projects_tab_list_activity on public.projects;
drop function private.mark_tab_list_activity();
