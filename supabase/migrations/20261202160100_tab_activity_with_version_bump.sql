-- Purpose: a tab sync writes its project row once, not twice (issue 17, docs/PERFORMANCE.md
-- "Tab sync"). EXPLAIN (ANALYZE) of PUT /projects/:id/tabs showed the history trigger's
-- `update public.projects set last_active_at = now()` as the most expensive part of that trigger:
-- a second row version of the project the sync's If-Match bump had just written, with the
-- project's own row triggers (guard, updated_at, audit) and a full foreign-key check of the owner
-- (postgres checks the key again when the row was written earlier in the same transaction).
-- The tab list's version and its activity time now move together: a BEFORE row trigger sets
-- last_active_at when tabs_version moves, in the row version the bump writes anyway. The history
-- trigger's bump (private.record_tab_history(), unchanged) then finds last_active_at already at
-- now() and updates nothing.
--   - The same projects get the same last_active_at: every tab change moves tabs_version
--     (private.follow_tab_list_change), and the functions' sync moves it once per PUT.
--   - One difference: a PUT that leaves the list as it was still moves tabs_version (its ETag
--     changes), and now last_active_at with it: the list was written.
--   - Like the history trigger, never backwards (a last_active_at in the future stays).
-- Objects: function private.mark_tab_list_activity(), trigger projects_tab_list_activity on
-- public.projects.
-- Destructive: nothing.

create function private.mark_tab_list_activity()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- A BEFORE trigger sets the column in the row being written: no column privilege is needed
  -- (clients still cannot set last_active_at themselves, 020_projects_rls).
  if new.last_active_at < now() then
    new.last_active_at := now();
  end if;
  return new;
end;
$$;
comment on function private.mark_tab_list_activity() is
  'BEFORE UPDATE row trigger on projects: when tabs_version moves (the tab list changed), last_active_at moves to now() in the same row version, so the tab history trigger need not write the row again.';
revoke all on function private.mark_tab_list_activity() from public, anon, authenticated, service_role;

create trigger projects_tab_list_activity
  before update of tabs_version on public.projects
  for each row
  when (old.tabs_version is distinct from new.tabs_version)
  execute function private.mark_tab_list_activity();
