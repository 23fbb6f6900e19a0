-- Rollback of 20261202160000_suspension_checked_once_per_transaction: the suspension check looks the
-- caller up in every statement again. caller_is_suspended() as 20261202150000 left it (PL/pgSQL),
-- refuse_suspended_caller() as 20261202100200 created it.

create or replace function private.caller_is_suspended()
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return coalesce(
    (select u.banned or (u.locked and (u.locked_until is null or u.locked_until > now()))
       from public.users u
      where u.id = (select auth.jwt()) ->> 'sub'),
    false);
end;
$$;

create or replace function private.refuse_suspended_caller()
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if private.caller_is_suspended() then
    raise exception 'this account is suspended' using errcode = 'P0001', hint = 'http:403';
  end if;
end;
$$;
comment on function private.refuse_suspended_caller() is
  'Raises P0001 (hint http:403) when the caller is suspended (banned or locked). Called by _shared/db.ts in the RLS context statement of every user transaction.';
