-- Purpose: a tab id names a tab within its project, not across all tenants. With one global
-- primary key on id, putting another user's tab id into your own list failed with a duplicate key
-- (409) while an unused uuid succeeded (200), which told a stranger that the other tab exists.
-- Keyed on (project_id, id), both create a tab with the given id in the caller's own project, and
-- nobody's rows are visible to anyone else's writes. Clients may keep choosing tab ids (the API's
-- "omit, or a new uuid, to create a tab").
-- Objects: primary key workspace_tabs_pkey becomes (project_id, id).
-- Destructive: rebuilds the primary key index under an ACCESS EXCLUSIVE lock on workspace_tabs
-- (short at this table's size; plan a quiet moment on a large one). No row changes.

alter table public.workspace_tabs
  drop constraint workspace_tabs_pkey,
  add constraint workspace_tabs_pkey primary key (project_id, id);

comment on column public.workspace_tabs.id is
  'Tab id, unique within its project (primary key (project_id, id)); may be chosen by the client.';
