-- Purpose: stream the tables the app syncs live to Realtime subscribers. Realtime applies the same
-- RLS policies to each subscriber, so users receive changes of their own rows only.
-- Objects: publication supabase_realtime gains public.projects and public.workspace_tabs.
-- Destructive: nothing.

alter publication supabase_realtime add table public.projects, public.workspace_tabs;
