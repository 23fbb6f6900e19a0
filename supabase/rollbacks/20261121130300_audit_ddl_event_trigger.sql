-- Rollback of 20261121130300_audit_ddl_event_trigger.sql. Stops recording schema changes.
drop event trigger if exists audit_sql_drop;
drop event trigger if exists audit_ddl_command_end;
drop function if exists audit.capture_ddl();
