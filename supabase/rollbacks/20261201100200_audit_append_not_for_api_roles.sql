-- Rollback of 20261201100200_audit_append_not_for_api_roles: authenticated may call
-- audit.append() again (the admin and privacy functions of that time call it directly).
-- Revoked and granted again in the original order, so the ACL reads as before.
revoke execute on function audit.append(text, text, text, text, jsonb) from service_role;
grant execute on function audit.append(text, text, text, text, jsonb) to authenticated, service_role;
drop function if exists audit.append_staff_read(text, text, text, text, jsonb);
