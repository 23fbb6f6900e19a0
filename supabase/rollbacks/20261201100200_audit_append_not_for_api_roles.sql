-- Rollback of 20261201100200_audit_append_not_for_api_roles: authenticated may call
-- audit.append() again (the admin and privacy functions of that time call it directly).
grant execute on function audit.append(text, text, text, text, jsonb) to authenticated;
drop function if exists audit.append_staff_read(text, text, text, text, jsonb);
