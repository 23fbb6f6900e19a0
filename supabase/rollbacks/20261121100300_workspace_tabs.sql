-- Rollback of 20261121100300_workspace_tabs.sql. Destructive: drops public.workspace_tabs.
drop table if exists public.workspace_tabs;
