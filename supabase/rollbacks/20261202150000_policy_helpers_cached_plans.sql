-- Rollback of 20261202150000_policy_helpers_cached_plans: the three helpers as SQL functions again,
-- with the bodies of 20261121100100_users and 20261202100200_suspended_users_refused.

create or replace function private.current_user_role()
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select u.role from public.users u where u.id = (select auth.jwt()) ->> 'sub'
$$;

create or replace function private.is_staff()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(private.current_user_role() in ('support', 'admin'), false)
$$;

create or replace function private.caller_is_suspended()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    (select u.banned or (u.locked and (u.locked_until is null or u.locked_until > now()))
       from public.users u
      where u.id = (select auth.jwt()) ->> 'sub'),
    false)
$$;
