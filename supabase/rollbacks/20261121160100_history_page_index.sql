-- Rollback of 20261121160100_history_page_index.sql: rebuilds the two indexes it replaced and drops
-- its own. A history page then reads all events of its project again (see the migration). Building
-- the two indexes blocks writes to workspace_history while they run.
create index if not exists workspace_history_project_id_id_idx on public.workspace_history (project_id, id desc);
create index if not exists workspace_history_project_id_user_id_idx
  on public.workspace_history (project_id, user_id);
comment on index public.workspace_history_project_id_user_id_idx is
  'Foreign-key cascade from projects (project_id, user_id): one index lookup per deleted project.';
drop index if exists public.workspace_history_project_id_user_id_id_idx;
