-- Purpose: append-only change events per project, written only by triggers on projects and
-- workspace_tabs. Diffs hold field names, positions and kinds, never titles or other free text,
-- so history carries no personal data. A tab change also bumps its project's last_active_at.
-- Objects: table public.workspace_history (+ RLS, grants, indexes); functions
-- private.record_project_history(), private.record_tab_history(); their triggers.
-- Destructive: nothing.

create table public.workspace_history (
  id bigint generated always as identity primary key,
  project_id uuid not null,
  user_id text not null,
  tab_id uuid,
  action text not null constraint workspace_history_action_shape check (action ~ '^[a-z_]+\.[a-z_]+$'),
  diff jsonb not null default '{}'::jsonb constraint workspace_history_diff_object check (jsonb_typeof(diff) = 'object'),
  changed_at timestamptz not null default now(),
  constraint workspace_history_project_fkey foreign key (project_id, user_id)
    references public.projects (id, user_id) on delete cascade
);

comment on table public.workspace_history is 'Append-only change events of a project (tab.created, tab.moved, project.archived, ...). Written by triggers; no personal data in diff.';
comment on column public.workspace_history.tab_id is 'The tab concerned, if any. No foreign key: the event outlives the tab.';
comment on column public.workspace_history.action is 'Event name <entity>.<verb>.';
comment on column public.workspace_history.diff is 'What changed: field names, positions, kinds. Never titles or free text.';

-- History page of one project, newest first (keyset on id, which grows with time).
create index workspace_history_project_id_id_idx on public.workspace_history (project_id, id desc);
-- Owner lookups (policy predicate leading column; DSAR export and erasure).
create index workspace_history_user_id_idx on public.workspace_history (user_id);
-- Retention trimming by age.
create index workspace_history_changed_at_idx on public.workspace_history (changed_at);

alter table public.workspace_history enable row level security;

create policy workspace_history_select_authenticated on public.workspace_history
  for select to authenticated
  using (user_id = ((select auth.jwt()) ->> 'sub'));

-- No insert/update/delete policy and no such grant for API roles: events come from triggers
-- (security definer) and automation only.
revoke all on table public.workspace_history from anon, authenticated, service_role;
revoke all on sequence public.workspace_history_id_seq from anon, authenticated, service_role;
grant select on table public.workspace_history to authenticated;
-- Automation may append; deletes belong to the retention job, which runs as the table owner.
grant select, insert on table public.workspace_history to service_role;

-- Statement-level triggers with transition tables: one history insert and one project update per
-- statement, however many tabs a tab-list sync touches.
create function private.record_tab_history()
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
    where exists (select 1 from public.projects p where p.id = o.project_id);

    update public.projects p set last_active_at = now()
    where p.id in (select o.project_id from old_rows o) and p.last_active_at < now();
  end if;
  return null;
end;
$$;
comment on function private.record_tab_history() is
  'AFTER statement trigger on workspace_tabs: writes tab.* history events and bumps projects.last_active_at.';

create trigger workspace_tabs_history_insert
  after insert on public.workspace_tabs
  referencing new table as new_rows
  for each statement execute function private.record_tab_history();

create trigger workspace_tabs_history_update
  after update on public.workspace_tabs
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.record_tab_history();

create trigger workspace_tabs_history_delete
  after delete on public.workspace_tabs
  referencing old table as old_rows
  for each statement execute function private.record_tab_history();

create function private.record_project_history()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  changed_fields jsonb;
begin
  if tg_op = 'INSERT' then
    insert into public.workspace_history (project_id, user_id, action, diff)
    values (new.id, new.user_id, 'project.created', jsonb_build_object('status', new.status));
    return null;
  end if;

  if old.status is distinct from new.status then
    insert into public.workspace_history (project_id, user_id, action, diff)
    values (new.id, new.user_id,
            case
              when new.status = 'deleted' then 'project.deleted'
              when new.status = 'archived' then 'project.archived'
              when old.status = 'deleted' then 'project.restored'
              else 'project.unarchived'
            end,
            jsonb_build_object('from', old.status, 'to', new.status));
  end if;

  -- Field names only: names and descriptions are free text and stay out of history.
  changed_fields := to_jsonb(array_remove(array[
    case when old.name is distinct from new.name then 'name' end,
    case when old.description is distinct from new.description then 'description' end,
    case when old.metadata is distinct from new.metadata then 'metadata' end
  ], null));
  if jsonb_array_length(changed_fields) > 0 then
    insert into public.workspace_history (project_id, user_id, action, diff)
    values (new.id, new.user_id, 'project.updated', jsonb_build_object('fields', changed_fields));
  end if;
  return null;
end;
$$;
comment on function private.record_project_history() is
  'AFTER row trigger on projects: writes project.* history events (status changes, edited field names).';

create trigger projects_history
  after insert or update of name, description, metadata, status on public.projects
  for each row execute function private.record_project_history();

revoke all on function private.record_tab_history(), private.record_project_history() from public, anon, authenticated;
