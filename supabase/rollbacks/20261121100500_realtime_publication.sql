-- Rollback of 20261121100500_realtime_publication.sql: stops streaming the tables to Realtime.
alter publication supabase_realtime drop table public.projects, public.workspace_tabs;
