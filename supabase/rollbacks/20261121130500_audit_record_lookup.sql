-- Rollback of 20261121130500_audit_record_lookup.sql.
drop function if exists audit.entries_about(text, text);
