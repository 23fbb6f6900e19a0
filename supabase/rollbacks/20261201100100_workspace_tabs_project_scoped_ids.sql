-- Rollback of 20261201100100_workspace_tabs_project_scoped_ids: the primary key is id alone
-- again. Fails with a duplicate key if two projects now hold tabs of the same id (resolve those
-- rows first; nothing is deleted here).
alter table public.workspace_tabs
  drop constraint workspace_tabs_pkey,
  add constraint workspace_tabs_pkey primary key (id);

comment on column public.workspace_tabs.id is null;
