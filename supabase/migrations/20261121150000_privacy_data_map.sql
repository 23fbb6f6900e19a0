-- Purpose: the data map of data-subject requests (DSAR). Schema `privacy` (not exposed by the
-- Data API: config.toml [api] schemas lists only public) and the registry of every table that
-- holds a subject's data: how to find the subject's rows (one subject column), whether an export
-- includes them, what an erasure does to them (delete the rows, anonymize named columns, nothing
-- because a parent's delete cascades to them, or retain them with a legal basis), and every column
-- with its classification and whether it is personal data. Export (privacy.build_export) and
-- erasure (privacy.execute_erasure) are driven by this map, and privacy.data_map_problems()
-- compares it with the catalog: a table of our schemas with a column that refers to a user (a
-- foreign key to public.users, or a name like user_id / *_user_id / actor / *_by) that is not in
-- the map fails the test suite, as does a mapped column that does not exist or a column of a
-- mapped table that is not classified. Design: docs/PRIVACY.md.
-- Objects: schema privacy; tables privacy.data_map, privacy.data_map_columns (+ RLS, grants);
-- function privacy.data_map_problems(); index audit.anchor (archived_by); data map rows of the
-- tables that exist before this migration (the privacy tables register themselves in their own
-- migration).
-- Destructive: nothing.

create schema privacy;
comment on schema privacy is
  'Data-subject requests (export, erasure): data map, requests, export documents, rate limits. Not exposed by the Data API; reached through the privacy Edge Function.';

revoke all on schema privacy from public;
grant usage on schema privacy to authenticated, service_role;

create table privacy.data_map (
  table_schema text not null constraint data_map_table_schema_shape check (table_schema ~ '^[a-z_][a-z0-9_]{0,62}$'),
  table_name text not null constraint data_map_table_name_shape check (table_name ~ '^[a-z_][a-z0-9_]{0,62}$'),
  subject_column text not null constraint data_map_subject_column_shape check (subject_column ~ '^[a-z_][a-z0-9_]{0,62}$'),
  erasure text not null constraint data_map_erasure_known check (erasure in ('delete', 'anonymize', 'cascade', 'retain')),
  cascade_from text constraint data_map_cascade_from_shape check (cascade_from ~ '^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$'),
  legal_basis text constraint data_map_legal_basis_length check (char_length(legal_basis) between 1 and 500),
  erasure_order integer not null default 100,
  export boolean not null,
  description text not null constraint data_map_description_length check (char_length(description) between 1 and 1000),
  constraint data_map_pkey primary key (table_schema, table_name),
  constraint data_map_cascade_names_parent check ((erasure = 'cascade') = (cascade_from is not null)),
  constraint data_map_retain_has_legal_basis check ((erasure = 'retain') = (legal_basis is not null))
);

comment on table privacy.data_map is
  'Every table that holds a data subject''s rows: how to find them, whether exports include them, and what erasure does to them. Export and erasure are driven by it; privacy.data_map_problems() checks it against the catalog.';
comment on column privacy.data_map.subject_column is 'Column holding the subject''s Clerk user id; the subject''s rows are those where it equals the id (indexed).';
comment on column privacy.data_map.erasure is
  'delete: the rows are deleted | anonymize: the columns marked anonymize in data_map_columns are set to null (the subject column among them) | cascade: removed by the delete of cascade_from (foreign key) | retain: kept, with legal_basis.';
comment on column privacy.data_map.cascade_from is 'For erasure = cascade: the table whose delete removes these rows.';
comment on column privacy.data_map.legal_basis is 'For erasure = retain: why the rows are kept (GDPR art. 17(3)).';
comment on column privacy.data_map.erasure_order is 'Order in which erasure applies delete and anonymize actions (ascending); public.users (through private.apply_clerk_user_deleted) comes last.';
comment on column privacy.data_map.export is 'Whether an export document includes the subject''s rows of this table.';

create table privacy.data_map_columns (
  table_schema text not null,
  table_name text not null,
  column_name text not null constraint data_map_columns_column_name_shape check (column_name ~ '^[a-z_][a-z0-9_]{0,62}$'),
  classification text not null
    constraint data_map_columns_classification_known
      check (classification in ('identifier', 'contact', 'profile', 'content', 'usage', 'technical')),
  personal boolean not null,
  anonymize boolean not null default false,
  constraint data_map_columns_pkey primary key (table_schema, table_name, column_name),
  constraint data_map_columns_table_fkey foreign key (table_schema, table_name)
    references privacy.data_map (table_schema, table_name) on delete cascade on update cascade
);

comment on table privacy.data_map_columns is
  'Every column of a mapped table: its classification and whether it is personal data; anonymize marks the columns an erasure sets to null (for tables whose erasure is anonymize).';
comment on column privacy.data_map_columns.classification is
  'identifier (ids that single out a person) | contact (email...) | profile (names, image, preferences) | content (what the person wrote) | usage (activity timestamps, events) | technical (keys, counters, bookkeeping).';
comment on column privacy.data_map_columns.personal is 'True when the column holds personal data of the subject.';
comment on column privacy.data_map_columns.anonymize is 'Erasure sets this column to null (only for tables whose erasure is anonymize).';

-- Staff may read the map (GET /privacy/data-map); only migrations change it.
alter table privacy.data_map enable row level security;
alter table privacy.data_map_columns enable row level security;
create policy data_map_select_authenticated on privacy.data_map
  for select to authenticated
  using ((select private.is_staff()));
create policy data_map_columns_select_authenticated on privacy.data_map_columns
  for select to authenticated
  using ((select private.is_staff()));
revoke all on table privacy.data_map, privacy.data_map_columns from public, anon, authenticated, service_role;
grant select on table privacy.data_map, privacy.data_map_columns to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- The check: the map against the catalog
-- ---------------------------------------------------------------------------------------------
create function privacy.data_map_problems()
returns table (table_schema text, table_name text, column_name text, problem text)
language sql
stable
security invoker
set search_path = ''
as $$
  with our_tables as (
    select n.nspname::text as table_schema, c.relname::text as table_name, c.oid
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p')
       and not c.relispartition
       and n.nspname in ('public', 'private', 'privacy', 'audit', 'ops')
  ),
  our_columns as (
    select t.table_schema, t.table_name, a.attname::text as column_name, a.attnotnull as not_null, a.attnum, t.oid
      from our_tables t
      join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  ),
  -- Columns that refer to a person: a foreign key to public.users, a user-like name, or the key
  -- of public.users itself.
  user_columns as (
    select oc.table_schema, oc.table_name, oc.column_name
      from our_columns oc
     where oc.column_name ~ '^(user_id|.+_user_id|actor|.+_by)$'
        or (oc.table_schema, oc.table_name, oc.column_name) = ('public', 'users', 'id')
        or exists (
             select 1 from pg_catalog.pg_constraint k
              where k.conrelid = oc.oid and k.contype = 'f'
                and k.confrelid = 'public.users'::regclass
                and oc.attnum = any (k.conkey))
  )
  -- A table referring to users that is not in the map.
  select u.table_schema, u.table_name, min(u.column_name), 'refers to users but is not in privacy.data_map'
    from user_columns u
   where not exists (select 1 from privacy.data_map m where m.table_schema = u.table_schema and m.table_name = u.table_name)
   group by u.table_schema, u.table_name
  union all
  -- A mapped table that does not exist.
  select m.table_schema, m.table_name, null, 'mapped but does not exist'
    from privacy.data_map m
   where not exists (select 1 from our_tables t where t.table_schema = m.table_schema and t.table_name = m.table_name)
  union all
  -- A subject column that does not exist or is not classified as an identifier.
  select m.table_schema, m.table_name, m.subject_column, 'subject column is missing or not classified as a personal identifier'
    from privacy.data_map m
   where not exists (select 1 from our_columns oc
                      where oc.table_schema = m.table_schema and oc.table_name = m.table_name
                        and oc.column_name = m.subject_column)
      or not exists (select 1 from privacy.data_map_columns dc
                      where dc.table_schema = m.table_schema and dc.table_name = m.table_name
                        and dc.column_name = m.subject_column and dc.classification = 'identifier' and dc.personal)
  union all
  -- A column of a mapped table that is not classified.
  select oc.table_schema, oc.table_name, oc.column_name, 'column of a mapped table is not classified in privacy.data_map_columns'
    from our_columns oc
    join privacy.data_map m on m.table_schema = oc.table_schema and m.table_name = oc.table_name
   where not exists (select 1 from privacy.data_map_columns dc
                      where dc.table_schema = oc.table_schema and dc.table_name = oc.table_name
                        and dc.column_name = oc.column_name)
  union all
  -- A classified column that does not exist.
  select dc.table_schema, dc.table_name, dc.column_name, 'classified but the column does not exist'
    from privacy.data_map_columns dc
   where not exists (select 1 from our_columns oc
                      where oc.table_schema = dc.table_schema and oc.table_name = dc.table_name
                        and oc.column_name = dc.column_name)
  union all
  -- A user-like column not classified as a personal identifier (e.g. a second person column).
  select u.table_schema, u.table_name, u.column_name, 'refers to users but is not classified as a personal identifier'
    from user_columns u
    join privacy.data_map m on m.table_schema = u.table_schema and m.table_name = u.table_name
   where not exists (select 1 from privacy.data_map_columns dc
                      where dc.table_schema = u.table_schema and dc.table_name = u.table_name
                        and dc.column_name = u.column_name and dc.classification = 'identifier' and dc.personal)
  union all
  -- Anonymization must clear the subject column (else the rows still single out the subject),
  -- may only touch nullable columns, and only applies to tables whose erasure is anonymize.
  select m.table_schema, m.table_name, m.subject_column, 'anonymize must set the subject column to null'
    from privacy.data_map m
   where m.erasure = 'anonymize'
     and not exists (select 1 from privacy.data_map_columns dc
                      where dc.table_schema = m.table_schema and dc.table_name = m.table_name
                        and dc.column_name = m.subject_column and dc.anonymize)
  union all
  select dc.table_schema, dc.table_name, dc.column_name,
         case when m.erasure <> 'anonymize' then 'anonymize is set but the table''s erasure is ' || m.erasure
              else 'anonymize is set on a not null column' end
    from privacy.data_map_columns dc
    join privacy.data_map m on m.table_schema = dc.table_schema and m.table_name = dc.table_name
    left join our_columns oc on oc.table_schema = dc.table_schema and oc.table_name = dc.table_name
                            and oc.column_name = dc.column_name
   where dc.anonymize and (m.erasure <> 'anonymize' or coalesce(oc.not_null, false))
  union all
  -- Personal columns of an anonymized table that stay must be the subject-free kind.
  select dc.table_schema, dc.table_name, dc.column_name, 'personal column of an anonymized table is neither anonymized nor technical'
    from privacy.data_map_columns dc
    join privacy.data_map m on m.table_schema = dc.table_schema and m.table_name = dc.table_name
   where m.erasure = 'anonymize' and dc.personal and not dc.anonymize
     and dc.classification in ('identifier', 'contact', 'profile', 'content')
  union all
  -- A cascade must name a mapped parent that is deleted.
  select m.table_schema, m.table_name, m.cascade_from, 'cascade_from is not a mapped table whose erasure deletes or cascades'
    from privacy.data_map m
   where m.erasure = 'cascade'
     and not exists (select 1 from privacy.data_map p
                      where p.table_schema || '.' || p.table_name = m.cascade_from
                        and p.erasure in ('delete', 'cascade'))
  union all
  -- The export is one json_build_object call (100 arguments at most).
  select 'privacy', 'data_map', 'export', 'more than 50 tables have export = true; privacy.export_statement() builds one json_build_object'
   where (select count(*) from privacy.data_map m where m.export) > 50
  order by 1, 2, 3
$$;
comment on function privacy.data_map_problems() is
  'Differences between privacy.data_map and the catalog: unmapped tables referring to users, mapped tables or columns that do not exist, unclassified columns, inconsistent erasure settings. Empty when the map is complete.';
revoke all on function privacy.data_map_problems() from public, anon, authenticated, service_role;

-- Every subject column is the leading column of an index (export and erasure look rows up by it);
-- audit.anchor had none.
create index anchor_archived_by_idx on audit.anchor (archived_by);

-- ---------------------------------------------------------------------------------------------
-- The map of the tables that exist so far
-- ---------------------------------------------------------------------------------------------
insert into privacy.data_map (table_schema, table_name, subject_column, erasure, cascade_from, legal_basis, erasure_order, export, description) values
  ('public', 'users', 'id', 'delete', null, null, 1000, true,
   'The subject''s profile synced from Clerk plus what this app stores about them. Deleted through private.apply_clerk_user_deleted, which writes the tombstone; the delete cascades to projects, tabs and history.'),
  ('public', 'projects', 'user_id', 'cascade', 'public.users', null, 100, true,
   'The subject''s projects. Removed by the delete of the user (foreign key on delete cascade).'),
  ('public', 'workspace_tabs', 'user_id', 'cascade', 'public.projects', null, 100, true,
   'Tabs of the subject''s projects. Removed by the delete of their project (composite foreign key on delete cascade).'),
  ('public', 'workspace_history', 'user_id', 'delete', null, null, 10, true,
   'Change events of the subject''s projects. Deleted first, in one statement on workspace_history_user_id_idx, rather than by one cascade per project.'),
  ('private', 'clerk_webhook_inbox', 'clerk_user_id', 'anonymize', null, null, 20, true,
   'Clerk webhook deliveries concerning the subject (no payload). The user id is cleared; the svix id stays so a replayed delivery is still recognised. Pruned after webhook_inbox_retention anyway.'),
  ('private', 'clerk_user_tombstones', 'user_id', 'retain', null,
   'Legitimate interest and art. 17 compliance itself: the Clerk id alone (no profile) prevents a late webhook or a still-valid session from re-creating an erased person.',
   100, true,
   'Written by the erasure (private.apply_clerk_user_deleted). Holds the Clerk id and deletion time only.'),
  ('audit', 'log', 'actor', 'retain', null,
   'Accountability (GDPR art. 5(2), art. 30): who did what and when. Pseudonymous Clerk ids and counts only; personal data is refused by audit.append.',
   100, true,
   'Audit entries of actions the subject made (actor). Append-only, tamper-evident; entries about the subject name it by id only (target_id).'),
  ('audit', 'anchor', 'archived_by', 'retain', null,
   'Accountability: the staff member who archived an audit log prefix. Pseudonymous id only.',
   100, true,
   'Archive anchors of the audit log; archived_by is the archiving staff member or automation.');

insert into privacy.data_map_columns (table_schema, table_name, column_name, classification, personal, anonymize) values
  ('public', 'users', 'id', 'identifier', true, false),
  ('public', 'users', 'email', 'contact', true, false),
  ('public', 'users', 'first_name', 'profile', true, false),
  ('public', 'users', 'last_name', 'profile', true, false),
  ('public', 'users', 'image_url', 'profile', true, false),
  ('public', 'users', 'display_name', 'profile', true, false),
  ('public', 'users', 'preferences', 'profile', true, false),
  ('public', 'users', 'role', 'technical', true, false),
  ('public', 'users', 'clerk_created_at', 'usage', true, false),
  ('public', 'users', 'clerk_updated_at', 'technical', false, false),
  ('public', 'users', 'last_sign_in_at', 'usage', true, false),
  ('public', 'users', 'last_active_at', 'usage', true, false),
  ('public', 'users', 'inactive_since', 'usage', true, false),
  ('public', 'users', 'created_at', 'usage', true, false),
  ('public', 'users', 'updated_at', 'technical', false, false),

  ('public', 'projects', 'id', 'technical', false, false),
  ('public', 'projects', 'user_id', 'identifier', true, false),
  ('public', 'projects', 'name', 'content', true, false),
  ('public', 'projects', 'description', 'content', true, false),
  ('public', 'projects', 'status', 'usage', true, false),
  ('public', 'projects', 'deleted_at', 'usage', true, false),
  ('public', 'projects', 'metadata', 'content', true, false),
  ('public', 'projects', 'tabs_version', 'technical', false, false),
  ('public', 'projects', 'last_active_at', 'usage', true, false),
  ('public', 'projects', 'created_at', 'usage', true, false),
  ('public', 'projects', 'updated_at', 'usage', true, false),

  ('public', 'workspace_tabs', 'id', 'technical', false, false),
  ('public', 'workspace_tabs', 'project_id', 'technical', false, false),
  ('public', 'workspace_tabs', 'user_id', 'identifier', true, false),
  ('public', 'workspace_tabs', 'position', 'content', true, false),
  ('public', 'workspace_tabs', 'title', 'content', true, false),
  ('public', 'workspace_tabs', 'kind', 'content', true, false),
  ('public', 'workspace_tabs', 'metadata', 'content', true, false),
  ('public', 'workspace_tabs', 'created_at', 'usage', true, false),
  ('public', 'workspace_tabs', 'updated_at', 'usage', true, false),

  ('public', 'workspace_history', 'id', 'technical', false, false),
  ('public', 'workspace_history', 'project_id', 'technical', false, false),
  ('public', 'workspace_history', 'user_id', 'identifier', true, false),
  ('public', 'workspace_history', 'tab_id', 'technical', false, false),
  ('public', 'workspace_history', 'action', 'usage', true, false),
  ('public', 'workspace_history', 'diff', 'usage', true, false),
  ('public', 'workspace_history', 'changed_at', 'usage', true, false),

  ('private', 'clerk_webhook_inbox', 'svix_id', 'technical', false, false),
  ('private', 'clerk_webhook_inbox', 'event_type', 'usage', true, false),
  ('private', 'clerk_webhook_inbox', 'clerk_user_id', 'identifier', true, true),
  ('private', 'clerk_webhook_inbox', 'event_at', 'usage', true, false),
  ('private', 'clerk_webhook_inbox', 'received_at', 'technical', false, false),
  ('private', 'clerk_webhook_inbox', 'outcome', 'technical', false, false),

  ('private', 'clerk_user_tombstones', 'user_id', 'identifier', true, false),
  ('private', 'clerk_user_tombstones', 'deleted_at', 'usage', true, false),
  ('private', 'clerk_user_tombstones', 'recorded_at', 'technical', false, false),

  ('audit', 'log', 'id', 'technical', false, false),
  ('audit', 'log', 'occurred_at', 'usage', true, false),
  ('audit', 'log', 'actor', 'identifier', true, false),
  ('audit', 'log', 'actor_kind', 'technical', false, false),
  ('audit', 'log', 'db_role', 'technical', false, false),
  ('audit', 'log', 'action', 'usage', true, false),
  ('audit', 'log', 'target_schema', 'technical', false, false),
  ('audit', 'log', 'target_table', 'technical', false, false),
  ('audit', 'log', 'target_id', 'identifier', true, false),
  ('audit', 'log', 'request_id', 'technical', false, false),
  ('audit', 'log', 'details', 'usage', true, false),

  ('audit', 'anchor', 'id', 'technical', false, false),
  ('audit', 'anchor', 'through_id', 'technical', false, false),
  ('audit', 'anchor', 'hash', 'technical', false, false),
  ('audit', 'anchor', 'entries', 'technical', false, false),
  ('audit', 'anchor', 'archived_at', 'usage', true, false),
  ('audit', 'anchor', 'archived_by', 'identifier', true, false);
