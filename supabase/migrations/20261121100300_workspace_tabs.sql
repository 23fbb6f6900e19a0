-- Purpose: the ordered tabs of a project's workspace. Positions are dense 0..n-1 per project,
-- guarded by a deferrable unique constraint so a whole reorder can be written in one transaction.
-- Objects: table public.workspace_tabs (+ RLS, grants, triggers, indexes).
-- Destructive: nothing.

create table public.workspace_tabs (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  user_id text not null default (auth.jwt() ->> 'sub'),
  position integer not null constraint workspace_tabs_position_nonnegative check (position >= 0),
  title text not null constraint workspace_tabs_title_length check (char_length(title) between 1 and 200),
  kind text not null constraint workspace_tabs_kind_shape check (kind ~ '^[a-z][a-z0-9_-]{0,49}$'),
  metadata jsonb not null default '{}'::jsonb
    constraint workspace_tabs_metadata_object check (jsonb_typeof(metadata) = 'object' and pg_column_size(metadata) <= 65536)
    constraint workspace_tabs_active_brief_section_ids_strings check (
      not (metadata ? 'activeBriefSectionIds')
      or (
        jsonb_typeof(metadata -> 'activeBriefSectionIds') = 'array'
        and not jsonb_path_exists(metadata -> 'activeBriefSectionIds', 'strict $[*] ? (@.type() != "string")')
      )
    ),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- The owner travels with the row and must be the project's owner.
  constraint workspace_tabs_project_fkey foreign key (project_id, user_id)
    references public.projects (id, user_id) on delete cascade,
  -- Deferrable so a reorder can pass through duplicate positions inside one transaction.
  constraint workspace_tabs_project_id_position_key unique (project_id, position) deferrable initially immediate
);

comment on table public.workspace_tabs is 'Ordered workspace tabs of a project; replaced as a whole list by PUT /projects/:id/tabs.';
comment on column public.workspace_tabs.user_id is 'Owner, equal to the project''s owner (composite foreign key).';
comment on column public.workspace_tabs.position is 'Dense 0..n-1 order within the project.';
comment on column public.workspace_tabs.kind is 'Tab type chosen by the client (lowercase slug).';
comment on column public.workspace_tabs.metadata is 'Client state; activeBriefSectionIds, when present, is an array of strings.';

-- Owner lookups (policy predicate leading column; DSAR export and erasure).
create index workspace_tabs_user_id_idx on public.workspace_tabs (user_id);

create trigger workspace_tabs_set_updated_at
  before update on public.workspace_tabs
  for each row execute function private.set_updated_at();

alter table public.workspace_tabs enable row level security;

create policy workspace_tabs_select_authenticated on public.workspace_tabs
  for select to authenticated
  using (user_id = ((select auth.jwt()) ->> 'sub'));

create policy workspace_tabs_insert_authenticated on public.workspace_tabs
  for insert to authenticated
  with check (user_id = ((select auth.jwt()) ->> 'sub'));

create policy workspace_tabs_update_authenticated on public.workspace_tabs
  for update to authenticated
  using (user_id = ((select auth.jwt()) ->> 'sub'))
  with check (user_id = ((select auth.jwt()) ->> 'sub'));

create policy workspace_tabs_delete_authenticated on public.workspace_tabs
  for delete to authenticated
  using (user_id = ((select auth.jwt()) ->> 'sub'));

revoke all on table public.workspace_tabs from anon, authenticated;
grant select, delete on table public.workspace_tabs to authenticated;
grant insert (id, project_id, user_id, position, title, kind, metadata) on table public.workspace_tabs to authenticated;
grant update (position, title, kind, metadata) on table public.workspace_tabs to authenticated;
grant select, insert, update, delete on table public.workspace_tabs to service_role;
