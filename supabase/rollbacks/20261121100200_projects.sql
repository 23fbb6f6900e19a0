-- Rollback of 20261121100200_projects.sql. Destructive: drops public.projects and every row in it.
drop table if exists public.projects;
drop function if exists private.project_restore_window();
