-- Purpose: the tab-delete branch of the history trigger checks that the tab's project still
-- exists with one primary-key probe per removed tab, never a sequential scan of public.projects.
-- Found by bench/privacy.ts: erasing a subject with 1,000 projects and 5,000 tabs on the scale-0.1
-- data set, the cascade's `where exists (select 1 from public.projects p where p.id = o.project_id)`
-- was planned as a hash semi join over all 100,001 projects. Same events, same results.
-- Objects: function private.record_tab_history (create or replace: triggers, grants, comment kept).
-- Destructive: nothing.

create or replace function private.record_tab_history()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.workspace_history (project_id, user_id, tab_id, action, diff)
    select n.project_id, n.user_id, n.id, 'tab.created', jsonb_build_object('position', n.position, 'kind', n.kind)
    from new_rows n;

    update public.projects p set last_active_at = now()
    where p.id in (select n.project_id from new_rows n) and p.last_active_at < now();

  elsif tg_op = 'UPDATE' then
    insert into public.workspace_history (project_id, user_id, tab_id, action, diff)
    select n.project_id, n.user_id, n.id,
           case when (o.title, o.kind, o.metadata) is not distinct from (n.title, n.kind, n.metadata)
                then 'tab.moved' else 'tab.updated' end,
           jsonb_strip_nulls(jsonb_build_object(
             'fields', nullif(to_jsonb(array_remove(array[
               case when o.title is distinct from n.title then 'title' end,
               case when o.kind is distinct from n.kind then 'kind' end,
               case when o.metadata is distinct from n.metadata then 'metadata' end
             ], null)), '[]'::jsonb),
             'from', case when o.position <> n.position then o.position end,
             'to', case when o.position <> n.position then n.position end))
    from new_rows n
    join old_rows o on o.id = n.id
    -- A reorder passes tabs through temporary positions; only the net change of a row counts,
    -- and rows whose visible fields did not change leave no event.
    where (o.position, o.title, o.kind, o.metadata) is distinct from (n.position, n.title, n.kind, n.metadata);

    update public.projects p set last_active_at = now()
    where p.id in (
        select n.project_id from new_rows n join old_rows o on o.id = n.id
        where (o.position, o.title, o.kind, o.metadata) is distinct from (n.position, n.title, n.kind, n.metadata)
      )
      and p.last_active_at < now();

  else
    -- Tabs removed by a project or user delete cascade: the project is gone, so no event.
    insert into public.workspace_history (project_id, user_id, tab_id, action, diff)
    select o.project_id, o.user_id, o.id, 'tab.deleted', jsonb_build_object('position', o.position)
    from old_rows o
    -- A scalar subquery, so one probe of projects_pkey per removed tab: as `exists (...)` the
    -- planner turned it into a semi join and, for the thousands of tabs of an erasure, hashed all
    -- of public.projects (a sequential scan of the table, bench/privacy.ts).
    where coalesce((select true from public.projects p where p.id = o.project_id), false);

    update public.projects p set last_active_at = now()
    where p.id in (select o.project_id from old_rows o) and p.last_active_at < now();
  end if;
  return null;
end;
$$;
