-- Purpose: projects owned by a user, soft-deleted through status, with an optimistic-concurrency
-- counter for the ordered tab list.
-- Objects: table public.projects (+ RLS, grants, triggers, indexes); function
-- private.project_restore_window().
-- Destructive: nothing.

create table public.projects (
  id uuid primary key default gen_random_uuid(),
  -- auth.jwt() without the wrapping select: a column default cannot hold a subquery.
  user_id text not null default (auth.jwt() ->> 'sub')
    references public.users (id) on delete cascade,
  name text not null constraint projects_name_length check (char_length(name) between 1 and 200),
  description text constraint projects_description_length check (char_length(description) <= 10000),
  status text not null default 'active'
    constraint projects_status_known check (status in ('active', 'archived', 'deleted')),
  deleted_at timestamptz,
  metadata jsonb not null default '{}'::jsonb
    constraint projects_metadata_object check (jsonb_typeof(metadata) = 'object' and pg_column_size(metadata) <= 65536),
  tabs_version bigint not null default 0 constraint projects_tabs_version_nonnegative check (tabs_version >= 0),
  last_active_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint projects_deleted_at_matches_status check ((status = 'deleted') = (deleted_at is not null)),
  -- Target of the composite foreign keys of child tables: a child row's owner cannot drift.
  constraint projects_id_user_id_key unique (id, user_id)
);

comment on table public.projects is 'A user''s workspace project. Deleting sets status = deleted; a cron job purges after the retention window.';
comment on column public.projects.user_id is 'Owner (Clerk user id). Defaults to the JWT sub of the inserting request.';
comment on column public.projects.status is 'active | archived | deleted; deleted_at is set exactly when status = deleted.';
comment on column public.projects.tabs_version is 'Incremented by every tab-list replacement; clients send it back in If-Match.';
comment on column public.projects.last_active_at is 'Last time the project or its tabs changed.';

-- Listing a user's projects, newest first, with keyset pagination on (updated_at, id).
create index projects_user_id_updated_at_idx on public.projects (user_id, updated_at desc, id desc);
-- Purging soft-deleted projects past the retention window.
create index projects_deleted_at_idx on public.projects (deleted_at) where deleted_at is not null;

create trigger projects_set_updated_at
  before update on public.projects
  for each row execute function private.set_updated_at();

alter table public.projects enable row level security;

create policy projects_select_authenticated on public.projects
  for select to authenticated
  using (user_id = ((select auth.jwt()) ->> 'sub'));

create policy projects_insert_authenticated on public.projects
  for insert to authenticated
  with check (user_id = ((select auth.jwt()) ->> 'sub'));

create policy projects_update_authenticated on public.projects
  for update to authenticated
  using (user_id = ((select auth.jwt()) ->> 'sub'))
  with check (user_id = ((select auth.jwt()) ->> 'sub'));

-- Hard deletes are the purge job's (service role); users soft-delete through status.

-- How long a soft-deleted project can be restored (and is kept before the purge job removes it).
create function private.project_restore_window()
returns interval
language sql
stable
security invoker
set search_path = ''
as $$
  select interval '30 days'
$$;
comment on function private.project_restore_window() is
  'Retention of soft-deleted projects: restorable within it, purged after it.';
revoke all on function private.project_restore_window() from public;
grant execute on function private.project_restore_window() to authenticated, service_role;

revoke all on table public.projects from anon, authenticated;
grant select on table public.projects to authenticated;
grant insert (id, user_id, name, description, metadata) on table public.projects to authenticated;
grant update (name, description, status, deleted_at, metadata, tabs_version) on table public.projects to authenticated;
grant select, insert, update, delete on table public.projects to service_role;
