-- Purpose: a tab-list reorder is one history event, and a tab sync costs a third of its Postgres
-- CPU (issue 17, docs/PERFORMANCE.md). Found by bench/edge.ts and EXPLAIN (ANALYZE) of the
-- PUT /projects/:id/tabs statement: dragging one tab of 20 to the end wrote 20 tab.moved rows
-- (20 inserts into three indexes and 20 foreign-key probes), and the statement triggers did their
-- full work on the sync's empty delete and insert parts and re-diffed the transition tables of a
-- list whose version the sync had already moved.
--   - History, UPDATE: per project and statement, tabs whose only change is their position are
--     one `tabs.reordered` event (tab_id null, diff {"count": n, "moves": [{"tab_id", "from",
--     "to"}, ...]} ordered by the new position) when two or more moved, and still one `tab.moved`
--     {"from", "to"} when a single tab moved. A tab whose title, kind or metadata changed is still
--     its own `tab.updated` (with "from"/"to" when it also moved). Same information, one row.
--     Events and the last_active_at bump are one statement instead of two joins of the
--     transition tables.
--   - History and tabs_version, every operation: a statement that touched no row returns at once.
--   - tabs_version, UPDATE: projects this transaction already moved (the sync's own bump) are
--     left out before the lists are compared; the comparison is a join on (project_id, id) rather
--     than two EXCEPT ALL over every column (the same rows: (project_id, id) is the key).
--   - private.tabs_version_bumped(): PL/pgSQL instead of SQL, the same query: a SQL function that
--     is not inlined (security definer) is parsed and planned on every call, a PL/pgSQL one keeps
--     its plan for the session.
-- Objects: functions private.record_tab_history(), private.follow_tab_list_change(),
-- private.tabs_version_bumped(uuid) (create or replace: triggers, grants, comments kept).
-- Destructive: nothing. Events written before stay as they are (tab.moved rows of old reorders).

create or replace function private.record_tab_history()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    if not exists (select from new_rows) then
      return null;
    end if;
    insert into public.workspace_history (project_id, user_id, tab_id, action, diff)
    select n.project_id, n.user_id, n.id, 'tab.created', jsonb_build_object('position', n.position, 'kind', n.kind)
    from new_rows n;

    update public.projects p set last_active_at = now()
    where p.id in (select n.project_id from new_rows n) and p.last_active_at < now();

  elsif tg_op = 'UPDATE' then
    if not exists (select from new_rows) then
      return null;
    end if;
    with net as (
      -- A reorder passes tabs through temporary positions; only the net change of a row counts,
      -- and rows whose visible fields did not change leave no event.
      select n.project_id, n.user_id, n.id, o.position as from_position, n.position as to_position,
             (o.title, o.kind, o.metadata) is not distinct from (n.title, n.kind, n.metadata) as moved_only,
             array_remove(array[
               case when o.title is distinct from n.title then 'title' end,
               case when o.kind is distinct from n.kind then 'kind' end,
               case when o.metadata is distinct from n.metadata then 'metadata' end
             ], null) as fields
      from new_rows n
      join old_rows o on o.id = n.id
      where (o.position, o.title, o.kind, o.metadata) is distinct from (n.position, n.title, n.kind, n.metadata)
    ), events as (
      insert into public.workspace_history (project_id, user_id, tab_id, action, diff)
      -- Field changes: one tab.updated per tab, naming the fields (never their text).
      select n.project_id, n.user_id, n.id, 'tab.updated',
             jsonb_strip_nulls(jsonb_build_object(
               'fields', to_jsonb(n.fields),
               'from', case when n.from_position <> n.to_position then n.from_position end,
               'to', case when n.from_position <> n.to_position then n.to_position end))
      from net n where not n.moved_only
      union all
      -- Pure moves, one event per project: tab.moved when one tab moved, as ever; tabs.reordered
      -- with every move when several did.
      select n.project_id, n.user_id,
             case when count(*) = 1 then min(n.id::text)::uuid end,
             case when count(*) = 1 then 'tab.moved' else 'tabs.reordered' end,
             case when count(*) = 1
                  then jsonb_build_object('from', min(n.from_position), 'to', min(n.to_position))
                  else jsonb_build_object(
                         'count', count(*),
                         'moves', jsonb_agg(jsonb_build_object('tab_id', n.id, 'from', n.from_position,
                                                               'to', n.to_position)
                                            order by n.to_position, n.id))
             end
      from net n where n.moved_only
      group by n.project_id, n.user_id
      returning 1
    )
    update public.projects p set last_active_at = now()
    where p.id in (select n.project_id from net n)
      and p.last_active_at < now();

  else
    if not exists (select from old_rows) then
      return null;
    end if;
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
    -- Projects on either side (a tab moved by automation to another project changes both lists)
    -- that this transaction has not moved yet; a tab sync has moved its own project already.
    -- (Distinct first, then one probe per project: a filter over the union would be pushed
    -- into both of its sides, one probe per row.)
    select array_agg(distinct c.project_id) into changed from (
      select n.project_id from new_rows n union all select o.project_id from old_rows o
    ) c;
    select array_agg(p) into changed from unnest(changed) p where not private.tabs_version_bumped(p);
    if changed is null then
      return null;
    end if;
    -- Of those, the ones whose list changed: a row whose visible fields changed, on either side
    -- (new rows without an identical old row, old rows without an identical new row); a no-op
    -- update changes no list.
    select array_agg(distinct c.project_id) into changed from (
      select n.project_id from new_rows n
      left join old_rows o on o.project_id = n.project_id and o.id = n.id
      where n.project_id = any (changed)
        and (o.id is null or (o.position, o.title, o.kind, o.metadata)
                             is distinct from (n.position, n.title, n.kind, n.metadata))
      union all
      select o.project_id from old_rows o
      left join new_rows n on n.project_id = o.project_id and n.id = o.id
      where o.project_id = any (changed)
        and (n.id is null or (o.position, o.title, o.kind, o.metadata)
                             is distinct from (n.position, n.title, n.kind, n.metadata))
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
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (
    select 1 from private.tabs_version_bumps b
     where b.project_id = tabs_version_bumped.project_id
       and b.xact_id = pg_catalog.pg_current_xact_id()
  );
end;
$$;
