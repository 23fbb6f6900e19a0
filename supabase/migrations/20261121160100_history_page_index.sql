-- Purpose: a project's history page reads only its page, however long the project's history.
-- The page (api/repositories/history.ts) filters project_id and user_id (the caller, also the RLS
-- predicate) and orders by id desc, limit n + 1. Since 20261121150500 added (project_id, user_id)
-- for the foreign-key cascade, the planner prefers that index (both columns match) over
-- (project_id, id desc) and sorts what it finds: every page read every event of the project (a
-- project with 20,000 events: 16.8 ms and 483 buffers per page, growing with the history;
-- bench/plans.ts, docs/DATABASE.md "Primary queries and their plans"). One index
-- (project_id, user_id, id desc) serves both: the page is an ordered range read that stops at the
-- limit (0.09 ms, 10 buffers), and the cascade's (project_id, user_id) lookup is its prefix.
-- It supersedes two indexes: (project_id, user_id) is its prefix, and nothing reads
-- workspace_history by project_id in id order without the owner (the purge job's
-- project_id = any(...) uses the prefix). One index fewer to maintain per history row.
-- Objects: index workspace_history_project_id_user_id_id_idx; drops indexes
-- workspace_history_project_id_user_id_idx (20261121150500) and workspace_history_project_id_id_idx
-- (20261121100400).
-- Destructive: drops two indexes (the rollback rebuilds them). Building the new index blocks writes
-- to workspace_history while it runs (about 30 s per 10 million rows here); on a large production
-- table build it beforehand with CREATE INDEX CONCURRENTLY under the same name (this migration then
-- skips it), so the migration itself only drops.

create index if not exists workspace_history_project_id_user_id_id_idx
  on public.workspace_history (project_id, user_id, id desc);

comment on index public.workspace_history_project_id_user_id_id_idx is
  'History page of a project (project_id, user_id = the caller, newest first, keyset on id) and the foreign-key cascade from projects (project_id, user_id), which uses its prefix.';

drop index if exists public.workspace_history_project_id_user_id_idx;
drop index if exists public.workspace_history_project_id_id_idx;
