-- Purpose: Realtime delivers only changes it can check against each subscriber's RLS. For
-- Postgres Changes, Realtime runs an INSERT or UPDATE record through the subscriber's SELECT
-- policies (as their role, with their JWT claims), but it cannot do that for a DELETE (the row is
-- gone): a DELETE event reaches every subscriber of the table, carrying the primary key. On
-- projects and workspace_tabs that would tell every signed-in user when anyone's tabs are removed
-- or projects purged, and which ids they had. So the publication streams inserts and updates
-- only. Clients lose nothing they need: a soft delete is an UPDATE (status), and every tab-list
-- change, removals included, moves the project's tabs_version (an UPDATE of projects).
-- Objects: publication supabase_realtime (publish = 'insert, update'). Its tables are unchanged:
-- public.projects and public.workspace_tabs, every column (no column list: the owner may read
-- all of them, and RLS decides the rows).
-- Destructive: subscribers stop receiving DELETE and TRUNCATE events of the published tables.

alter publication supabase_realtime set (publish = 'insert, update');
