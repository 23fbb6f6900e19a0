-- Purpose: schema changes land in the audit log. Event triggers on ddl_command_end (CREATE, ALTER,
-- GRANT, COMMENT...) and sql_drop (DROP) append one schema.ddl entry per object: command tag,
-- object type and identity in details, the object's schema/table/identity as target, and the
-- database role and actor from the session (audit.current_actor). Temporary objects and objects
-- created inside an extension's script are skipped. Recording never breaks DDL: any failure
-- becomes a WARNING and the command proceeds. Enabled ALWAYS (replica mode does not silence it).
-- Objects: function audit.capture_ddl(); event triggers audit_ddl_command_end, audit_sql_drop.
-- Destructive: nothing.

create function audit.capture_ddl()
returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  obj record;
begin
  if tg_event = 'ddl_command_end' then
    for obj in
      select c.command_tag, c.object_type, c.schema_name, c.object_identity,
             case when c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                  then (select r.relname::text from pg_catalog.pg_class r where r.oid = c.objid) end as table_name
        from pg_catalog.pg_event_trigger_ddl_commands() c
       where not c.in_extension
         and coalesce(c.schema_name, '') not like 'pg\_temp%'
         and coalesce(c.schema_name, '') not like 'pg\_toast\_temp%'
    loop
      perform audit.append('schema.ddl', obj.schema_name, obj.table_name, obj.object_identity,
        jsonb_build_object('command_tag', obj.command_tag, 'object_type', obj.object_type,
                           'object_identity', obj.object_identity));
    end loop;
  elsif tg_event = 'sql_drop' then
    for obj in
      select d.object_type, d.schema_name, d.object_identity,
             case when d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass then d.object_name end as table_name
        from pg_catalog.pg_event_trigger_dropped_objects() d
       where d.original and not d.is_temporary
    loop
      perform audit.append('schema.ddl', obj.schema_name, obj.table_name, obj.object_identity,
        jsonb_build_object('command_tag', tg_tag, 'object_type', obj.object_type,
                           'object_identity', obj.object_identity));
    end loop;
  end if;
exception when others then
  -- Never block a schema change because it could not be recorded; say so in the server log.
  raise warning 'audit: % not recorded (%: %)', tg_tag, sqlstate, sqlerrm;
end;
$$;
comment on function audit.capture_ddl() is
  'Event trigger: one schema.ddl audit entry per created/altered/dropped object (command tag, object identity, role). Failures are logged as warnings and never abort the DDL.';

revoke all on function audit.capture_ddl() from public, anon, authenticated, service_role;

create event trigger audit_ddl_command_end on ddl_command_end
  execute function audit.capture_ddl();
create event trigger audit_sql_drop on sql_drop
  execute function audit.capture_ddl();

alter event trigger audit_ddl_command_end enable always;
alter event trigger audit_sql_drop enable always;

comment on event trigger audit_ddl_command_end is 'Records created and altered schema objects in the audit log (schema.ddl).';
comment on event trigger audit_sql_drop is 'Records dropped schema objects in the audit log (schema.ddl).';
