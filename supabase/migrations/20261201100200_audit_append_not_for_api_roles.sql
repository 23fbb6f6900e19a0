-- Purpose: no API role appends to the audit log at will. audit.append() takes the actor from the
-- session (role + request.jwt.claims), and whoever holds SQL access as `authenticated` sets those
-- claims freely; until now only the audit schema being unexposed kept a client from writing
-- entries in anyone's name with any action. Now:
--   * audit.append() is executable by service_role (automation) and the owner only; the security
--     definer functions, triggers and jobs that call it run as the owner and keep working;
--   * staff reads that the admin and privacy functions audit from a staff member's own
--     transaction go through audit.append_staff_read(): for an API role staff only
--     (public.users.role, read by private.is_staff()), and only the read events listed in it.
-- Objects: function audit.append_staff_read(text, text, text, text, jsonb); execute on
-- audit.append(text, text, text, text, jsonb) revoked from authenticated (and public, anon).
-- Destructive: nothing.

create function audit.append_staff_read(
  action text,
  target_schema text default null,
  target_table text default null,
  target_id text default null,
  details jsonb default '{}'::jsonb
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- The role setting survives security definer (audit.current_actor reads it the same way).
  if current_setting('role') in ('anon', 'authenticated') and not private.is_staff() then
    raise exception 'only staff record staff reads' using errcode = 'insufficient_privilege';
  end if;
  -- The events the functions record from a staff member's transaction; nothing else.
  if append_staff_read.action not in ('audit.searched', 'audit.verified', 'dsar.requests.listed', 'dsar.request.viewed') then
    raise exception 'not a staff read event: %', append_staff_read.action using errcode = 'insufficient_privilege';
  end if;
  return audit.append(append_staff_read.action, append_staff_read.target_schema, append_staff_read.target_table,
                      append_staff_read.target_id, append_staff_read.details);
end;
$$;
comment on function audit.append_staff_read(text, text, text, text, jsonb) is
  'Audits a staff read (audit.searched, audit.verified, dsar.requests.listed, dsar.request.viewed) from the staff member''s own transaction. Staff only; actor and kind come from the session as in audit.append().';

revoke all on function audit.append_staff_read(text, text, text, text, jsonb) from public, anon, authenticated, service_role;
grant execute on function audit.append_staff_read(text, text, text, text, jsonb) to authenticated;

revoke execute on function audit.append(text, text, text, text, jsonb) from public, anon, authenticated;
