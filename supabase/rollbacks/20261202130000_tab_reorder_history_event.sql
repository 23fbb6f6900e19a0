-- Rollback of 20261202130000_tab_reorder_history_event.sql: the trigger functions as
-- 20261201160100_tab_history_project_probe.sql (record_tab_history) and
-- 20261201100000_data_api_project_rules.sql (follow_tab_list_change, tabs_version_bumped) defined them. Events written
-- meanwhile stay (tabs.reordered rows are valid events of the old shape check too).

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

create or replace function private.follow_tab_list_change()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  changed uuid[];
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct n.project_id) into changed from new_rows n;
  elsif tg_op = 'UPDATE' then
    -- Rows whose visible fields changed, on both sides (a tab moved by automation to another
    -- project changes both lists); a no-op update changes no list.
    select array_agg(distinct c.project_id) into changed from (
      (select n.id, n.project_id, n.position, n.title, n.kind, n.metadata from new_rows n
       except all
       select o.id, o.project_id, o.position, o.title, o.kind, o.metadata from old_rows o)
      union all
      (select o.id, o.project_id, o.position, o.title, o.kind, o.metadata from old_rows o
       except all
       select n.id, n.project_id, n.position, n.title, n.kind, n.metadata from new_rows n)
    ) c;
  else
    select array_agg(distinct o.project_id) into changed from old_rows o;
  end if;

  if changed is null then
    return null;
  end if;
  -- Projects removed in the same statement (cascades) match no row.
  update public.projects p set tabs_version = p.tabs_version + 1
   where p.id = any (changed)
     and not private.tabs_version_bumped(p.id);
  return null;
end;
$$;

create or replace function private.tabs_version_bumped(project_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from private.tabs_version_bumps b
     where b.project_id = tabs_version_bumped.project_id
       and b.xact_id = pg_catalog.pg_current_xact_id()
  )
$$;
