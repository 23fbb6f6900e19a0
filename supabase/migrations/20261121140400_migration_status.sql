-- Purpose: staff read of the migration history the Supabase CLI keeps in
-- supabase_migrations.schema_migrations, which GET /admin/migrations compares with the migrations
-- shipped in the repository (applied, pending, unknown to this repository).
-- A database the CLI never touched has no history table: the function then returns no rows.
-- Objects: function ops.applied_migrations().
-- Destructive: nothing.

create function ops.applied_migrations()
returns table (version text, name text)
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  perform ops.require_staff();
  if to_regclass('supabase_migrations.schema_migrations') is null then
    return;
  end if;
  return query
    select m.version::text, m.name::text
      from supabase_migrations.schema_migrations m
     order by m.version;
end;
$$;
comment on function ops.applied_migrations() is
  'Versions and names recorded in supabase_migrations.schema_migrations (none when the table does not exist). Staff (GET /admin/migrations) and the owner only (P0001 hint http:403 for other users).';

revoke all on function ops.applied_migrations() from public, anon, authenticated, service_role;
grant execute on function ops.applied_migrations() to authenticated;
