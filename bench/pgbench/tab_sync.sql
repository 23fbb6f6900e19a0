-- One 20-tab sync as the API sends it (bench/tab_sync_floor.sh runs this with pgbench -M prepared):
-- begin, the request context (_shared/db.ts contextStatement), the sync statement of
-- supabase/functions/api/repositories/tabs.ts replaceTabs, the list read, commit. The change:
-- every tab moved on by :shift places (19: the first tab dragged to the end, all 20 rows move)
-- and, with :rename = 1, the first tab renamed (with :shift 0: a sync that changes one row).
-- The first statement builds that payload and reads the current version: the client's part,
-- left out of the statement figures. Keep the sync statement and the list read in step with
-- tabs.ts (a copy: pgbench cannot call TypeScript).
select jsonb_agg(jsonb_build_object('id', id, 'position', (position + :shift::int) % 20, 'title', case when :rename::int = 1 and position = 0 then case when title like '%*' then rtrim(title, '*') else title || '*' end else title end, 'kind', kind, 'metadata', metadata)) as payload, (select tabs_version from public.projects where id = :project::uuid) as ver from public.workspace_tabs where project_id = :project::uuid \gset
begin;
select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"sub":"user_tabfloor","role":"authenticated"}', true), set_config('request.id', 'x', true), private.refuse_suspended_caller();
with bumped as (
        update public.projects set tabs_version = tabs_version + 1
        where id = :project::uuid and user_id = 'user_tabfloor' and status <> 'deleted'
          and tabs_version = :ver::bigint
        returning id, user_id, tabs_version
      ), incoming as (
        select * from jsonb_to_recordset(:payload::jsonb)
          as t(id uuid, position integer, title text, kind text, metadata jsonb)
      ), removed as (
        delete from public.workspace_tabs w using bumped b
        where w.project_id = b.id and w.user_id = b.user_id
          and not exists (select from incoming i where i.id = w.id)
        returning w.id
      ), changed as (
        update public.workspace_tabs w
        set position = i.position, title = i.title, kind = i.kind, metadata = i.metadata
        from incoming i, bumped b
        where w.project_id = b.id and w.user_id = b.user_id and w.id = i.id
          and (w.position, w.title, w.kind, w.metadata) is distinct from (i.position, i.title, i.kind, i.metadata)
        returning w.id
      ), existing as (
        select w.id from public.workspace_tabs w join bumped b on w.project_id = b.id and w.user_id = b.user_id
      ), created as (
        insert into public.workspace_tabs (id, project_id, user_id, position, title, kind, metadata)
        select i.id, b.id, b.user_id, i.position, i.title, i.kind, i.metadata
        from incoming i cross join bumped b
        where not exists (select 1 from existing e where e.id = i.id)
        returning id
      )
      select (select tabs_version::text from bumped) as new_version,
             (select count(*) from removed)::int as removed,
             (select count(*) from changed)::int as changed,
             (select count(*) from created)::int as created;
select id, project_id, position, title, kind, metadata, created_at, updated_at from public.workspace_tabs where project_id = :project::uuid and user_id = 'user_tabfloor' order by position;
commit;
