-- Rollback of 20261121150500_owner_foreign_key_indexes.sql: drops the two composite indexes.
-- Deleting projects of users with many rows is slow again (see the migration).
drop index if exists public.workspace_tabs_project_id_user_id_idx;
drop index if exists public.workspace_history_project_id_user_id_idx;
