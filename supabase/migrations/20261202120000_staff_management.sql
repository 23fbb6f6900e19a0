-- Purpose: staff management decided in the database. Admins list, grant and revoke the support and
-- admin roles (public.users.role) through two security definer functions in the unexposed `private`
-- schema; the last admin can never be demoted, so the project cannot lock itself out. An operator
-- holding database credentials (the bootstrap command `npm run staff:grant`) may set a role too; the
-- existing role-change trigger (audit.capture_role_change) audits every change with the actor taken
-- from the session: the admin's Clerk id, or the operator the bootstrap command names.
-- Objects: functions private.staff_members(), private.set_staff_role(text, text).
-- Destructive: nothing.

create function private.staff_members()
returns table (
  user_id text,
  role text,
  email text,
  first_name text,
  last_name text,
  display_name text,
  updated_at timestamptz
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  found_count integer;
begin
  if not private.is_admin() then
    raise exception 'only admins manage staff' using errcode = 'P0001', hint = 'http:403';
  end if;
  return query
    select u.id, u.role, u.email, u.first_name, u.last_name, u.display_name, u.updated_at
      from public.users u
     where u.role in ('support', 'admin')
     order by u.role, u.id;
  get diagnostics found_count = row_count;
  -- Reading who the staff are is itself a staff action; ids and counts only.
  perform audit.append('staff.listed', 'public', 'users', null, jsonb_build_object('count', found_count));
end;
$$;
comment on function private.staff_members() is
  'Admins only (P0001 http:403 otherwise): every support and admin user, audited as staff.listed.';

create function private.set_staff_role(target_user_id text, new_role text)
returns table (user_id text, role text, previous_role text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  api_caller boolean := current_setting('role') in ('anon', 'authenticated');
  previous text;
  admins integer;
begin
  if api_caller and not private.is_admin() then
    raise exception 'only admins manage staff' using errcode = 'P0001', hint = 'http:403';
  end if;
  if set_staff_role.new_role is null or set_staff_role.new_role not in ('user', 'support', 'admin') then
    raise exception 'role must be user, support or admin' using errcode = 'P0001', hint = 'http:400';
  end if;

  -- Every admin row is locked first, in id order, so two concurrent demotions cannot each see
  -- the other admin still in place and leave none.
  perform 1 from public.users u where u.role = 'admin' order by u.id for update;
  select u.role into previous from public.users u where u.id = set_staff_role.target_user_id for update;

  if not found then
    if api_caller then
      raise exception 'no such user' using errcode = 'P0001', hint = 'http:404';
    end if;
    -- The bootstrap: the first admin may not have signed in yet. The Clerk webhook fills in the
    -- profile later; a tombstoned (deleted) id is refused by the users insert trigger (410).
    insert into public.users (id, role) values (set_staff_role.target_user_id, set_staff_role.new_role);
    return query select set_staff_role.target_user_id, set_staff_role.new_role, null::text;
    return;
  end if;

  if previous = 'admin' and set_staff_role.new_role <> 'admin' then
    select count(*) into admins from public.users u where u.role = 'admin';
    if admins <= 1 then
      raise exception 'the last admin cannot be demoted: grant admin to someone else first'
        using errcode = 'P0001', hint = 'http:409';
    end if;
  end if;

  if previous is distinct from set_staff_role.new_role then
    -- Audited by the users_audit_role_change trigger (user.role.changed, from/to, the session's actor).
    update public.users u set role = set_staff_role.new_role where u.id = set_staff_role.target_user_id;
  end if;
  return query select set_staff_role.target_user_id, set_staff_role.new_role, previous;
end;
$$;
comment on function private.set_staff_role(text, text) is
  'Sets public.users.role. API callers: admins only (403), known users only (404); never demotes the last admin (409). Database sessions (the bootstrap command) may also create the user row. Audited by the role-change trigger.';

revoke all on function private.staff_members(), private.set_staff_role(text, text) from public, anon, authenticated, service_role;
grant execute on function private.staff_members(), private.set_staff_role(text, text) to authenticated;
