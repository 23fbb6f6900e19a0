-- Purpose: the rules a client must obey hold for a direct Data API write too. With Clerk
-- third-party auth on, supabase-js reaches PostgREST as `authenticated` and writes `public` tables
-- without our Edge Functions, so the project rules move from the functions' SQL into the database:
--   * deleted_at follows status: set to now() when a project is deleted, kept while it stays
--     deleted, cleared on restore; a client value that disagrees is refused;
--   * a deleted project comes back only inside private.project_restore_window();
--   * a deleted project is frozen: its name, description, metadata and tab list do not change;
--   * tabs_version moves one step at a time, and every change of the tab list moves it once per
--     transaction (an If-Match holder can never miss a change): the functions' explicit bump is
--     the If-Match gate, and any tab write without it (a direct insert/update/delete) bumps it.
-- The rules bind every role that row-level security binds (authenticated, anon); automation that
-- bypasses RLS (service_role, the owner's jobs and migrations) is trusted and bound by the
-- constraints only, so purge, erasure and test fixtures may still set any consistent value.
-- Objects: function private.guard_project_change() + trigger projects_guard_change; table
-- private.tabs_version_bumps; functions private.note_tabs_version_bump(),
-- private.tabs_version_bumped(uuid), private.follow_tab_list_change() + triggers
-- projects_note_tabs_version_bump, workspace_tabs_version_{insert,update,delete}.
-- Destructive: nothing (no data changes; the new rules apply to later writes).

-- ---------------------------------------------------------------------------------------------
-- projects: status, deleted_at, restore window, frozen while deleted, tabs_version steps
-- ---------------------------------------------------------------------------------------------
create function private.guard_project_change()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  derived_deleted_at timestamptz;
begin
  -- Roles that bypass row-level security (service_role, the table owner, superusers) are the
  -- automation; current_user is the role the statement runs as (this function is invoker).
  if exists (select 1 from pg_catalog.pg_roles r
              where r.rolname = current_user and (r.rolsuper or r.rolbypassrls)) then
    return new;
  end if;

  -- deleted_at is derived from status; a client may repeat the derived value, never another one.
  derived_deleted_at := case
    when new.status <> 'deleted' then null
    when old.status = 'deleted' then old.deleted_at
    else now()
  end;
  if new.deleted_at is distinct from old.deleted_at and new.deleted_at is distinct from derived_deleted_at then
    raise exception 'deleted_at follows status: it is set when the project is deleted and cleared when it is restored'
      using errcode = 'P0001', hint = 'http:422';
  end if;
  new.deleted_at := derived_deleted_at;

  if old.status = 'deleted' and new.status <> 'deleted'
     and old.deleted_at <= now() - private.project_restore_window() then
    raise exception 'the project was deleted too long ago to be restored'
      using errcode = 'P0001', hint = 'http:410';
  end if;

  if old.status = 'deleted' and new.status = 'deleted'
     and (new.name, new.description, new.metadata, new.tabs_version)
         is distinct from (old.name, old.description, old.metadata, old.tabs_version) then
    raise exception 'the project is deleted' using errcode = 'P0001', hint = 'http:409';
  end if;

  if new.tabs_version <> old.tabs_version and new.tabs_version <> old.tabs_version + 1 then
    raise exception 'tabs_version moves one step at a time'
      using errcode = 'P0001', hint = 'http:422';
  end if;
  return new;
end;
$$;
comment on function private.guard_project_change() is
  'BEFORE UPDATE trigger on projects, for roles bound by RLS: derives deleted_at from status, enforces the restore window, freezes deleted projects, lets tabs_version move by one step only.';
revoke all on function private.guard_project_change() from public, anon, authenticated, service_role;

-- Fires before projects_set_updated_at (triggers of one event fire in name order), so a refused
-- change never reaches it.
create trigger projects_guard_change
  before update on public.projects
  for each row execute function private.guard_project_change();

-- ---------------------------------------------------------------------------------------------
-- tabs_version: once per transaction that changes the tab list
-- ---------------------------------------------------------------------------------------------
-- The transaction that last moved each project's tabs_version. A tab write in a transaction that
-- already moved it (the functions' If-Match gate, or an earlier tab statement) moves it no
-- further; any other tab write moves it by one. Kept in a table no API role can read or write, so
-- the "already moved" answer cannot be forged (a transaction-local setting could be).
create table private.tabs_version_bumps (
  project_id uuid primary key references public.projects (id) on delete cascade,
  xact_id xid8 not null
);
comment on table private.tabs_version_bumps is
  'Bookkeeping of private.follow_tab_list_change(): the transaction that last moved a project''s tabs_version. One row per project; rewritten in place.';
comment on column private.tabs_version_bumps.xact_id is 'pg_current_xact_id() of the transaction that last moved tabs_version.';

alter table private.tabs_version_bumps enable row level security;
-- No policy and no grant: only the security definer functions below (owner) touch it.
revoke all on table private.tabs_version_bumps from public, anon, authenticated, service_role;

create function private.note_tabs_version_bump()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.tabs_version_bumps as b (project_id, xact_id)
  values (new.id, pg_catalog.pg_current_xact_id())
  on conflict (project_id) do update set xact_id = excluded.xact_id
    where b.xact_id is distinct from excluded.xact_id;
  return null;
end;
$$;
comment on function private.note_tabs_version_bump() is
  'AFTER UPDATE row trigger on projects: records the transaction that moved tabs_version (private.tabs_version_bumps).';
revoke all on function private.note_tabs_version_bump() from public, anon, authenticated, service_role;

create trigger projects_note_tabs_version_bump
  after update of tabs_version on public.projects
  for each row
  when (old.tabs_version is distinct from new.tabs_version)
  execute function private.note_tabs_version_bump();

-- True only when the calling transaction itself moved the project's tabs_version, so it tells a
-- caller nothing about anyone else's project.
create function private.tabs_version_bumped(project_id uuid)
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
comment on function private.tabs_version_bumped(uuid) is
  'Whether the current transaction already moved this project''s tabs_version.';
revoke all on function private.tabs_version_bumped(uuid) from public, anon;
grant execute on function private.tabs_version_bumped(uuid) to authenticated, service_role;

-- Statement-level, like the history triggers: one project update per statement however many
-- tabs it touches. Security invoker on purpose: the bump runs as the writer, so for a client the
-- projects guard applies (no tab change on a deleted project) and RLS limits it to own projects
-- (a tab's owner is its project's owner by the composite foreign key).
create function private.follow_tab_list_change()
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
comment on function private.follow_tab_list_change() is
  'AFTER statement trigger on workspace_tabs: moves tabs_version of every project whose tab list the statement changed, unless the transaction already moved it.';
revoke all on function private.follow_tab_list_change() from public, anon, authenticated, service_role;

create trigger workspace_tabs_version_insert
  after insert on public.workspace_tabs
  referencing new table as new_rows
  for each statement execute function private.follow_tab_list_change();

create trigger workspace_tabs_version_update
  after update on public.workspace_tabs
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.follow_tab_list_change();

create trigger workspace_tabs_version_delete
  after delete on public.workspace_tabs
  referencing old table as old_rows
  for each statement execute function private.follow_tab_list_change();

comment on column public.projects.tabs_version is
  'Version of the tab list for If-Match: moves by one in every transaction that changes the list (PUT /projects/:id/tabs, or any direct tab write). Clients may only step it by one.';
comment on column public.projects.deleted_at is
  'When the project was soft-deleted; derived from status for API roles (set on delete, cleared on restore).';
