-- Rollback of 20261121150200_privacy_functions.sql: drops the DSAR functions. Requests and exports
-- stay stored but can no longer be created, approved, cancelled, downloaded or executed.
-- Apply the rollback of 20261121150400 first: the user.deleted webhook path calls
-- privacy.erase_deleted_clerk_user.
drop function if exists privacy.record_clerk_deletion(uuid, boolean, integer);
drop function if exists privacy.pending_clerk_deletions(integer);
drop function if exists privacy.require_admin_or_automation();
drop function if exists privacy.take_rate_limit(text);
drop function if exists privacy.export_download(uuid);
drop function if exists privacy.approve_request(uuid);
drop function if exists privacy.cancel_request(uuid);
drop function if exists privacy.create_request(text, text, text, interval, text);
drop function if exists privacy.erase_deleted_clerk_user(text, timestamptz);
drop function if exists privacy.run_erasure(uuid, timestamptz);
drop function if exists privacy.execute_erasure(uuid, timestamptz);
drop function if exists privacy.execute_export(uuid);
drop function if exists privacy.build_export(text);
drop function if exists privacy.compose_export(text, uuid);
drop function if exists privacy.subject_counts(text);
drop function if exists privacy.export_statement();
drop function if exists privacy.find_visible_request(uuid);
drop function if exists privacy.audit_request(text, uuid, jsonb);
drop function if exists privacy.caller_role();
