-- Purpose: index the composite foreign keys (project_id, user_id) of workspace_history and
-- workspace_tabs. Neither had an index with both columns, so the generic plan of the foreign-key
-- cascade (`delete ... where project_id = $1 and user_id = $2`, run once per deleted project)
-- combined the project index with the owner index (BitmapAnd) and read every index entry of the
-- owner for each project: O(projects x rows of the owner). Deleting a heavy user's 1,000 projects
-- (a DSAR erasure; the purge-deleted-projects job on a heavy user) took 1-3 s in the cascade
-- alone; with these indexes about 0.1 s (bench/privacy.ts).
-- Objects: indexes workspace_history_project_id_user_id_idx, workspace_tabs_project_id_user_id_idx.
-- Destructive: nothing. Building them blocks writes to the two tables while it runs (seconds on
-- millions of rows); on a large production table build them beforehand with CREATE INDEX
-- CONCURRENTLY under the same names (this migration then skips them).

create index if not exists workspace_history_project_id_user_id_idx
  on public.workspace_history (project_id, user_id);
create index if not exists workspace_tabs_project_id_user_id_idx
  on public.workspace_tabs (project_id, user_id);

comment on index public.workspace_history_project_id_user_id_idx is
  'Foreign-key cascade from projects (project_id, user_id): one index lookup per deleted project.';
comment on index public.workspace_tabs_project_id_user_id_idx is
  'Foreign-key cascade from projects (project_id, user_id): one index lookup per deleted project.';
