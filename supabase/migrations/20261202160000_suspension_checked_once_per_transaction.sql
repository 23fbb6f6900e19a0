-- Purpose: a user transaction of the Edge Functions looks up the caller's ban/lock flags once, not
-- once per statement (issue 17, docs/PERFORMANCE.md "The suspension check"). pgbench of the
-- GET /projects transaction (begin, context, list, commit) found the check to be half of the
-- server's work: the context statement 66 us, of which private.refuse_suspended_caller() (a definer
-- function calling another one, each with its own search_path) ~45 us; the list under RLS 88 us
-- against 43 us as the table owner, the difference being the restrictive *_not_suspended policy's
-- private.caller_is_suspended() and its users lookup. A tab sync evaluates that policy in about ten
-- statements (the sync's parts and the triggers' queries).
--   - private.refuse_suspended_caller() does the lookup itself (one definer call instead of two)
--     and, when the caller is not suspended, records the claims it checked in the
--     transaction-local setting private.caller_cleared.
--   - private.caller_is_suspended() answers false at once when private.caller_cleared equals the
--     current request.jwt.claims (a text comparison); otherwise it looks the flags up as before
--     (the Data API and Realtime, whose requests never run refuse_suspended_caller(), and any
--     transaction that did not).
-- Why this is sound: set_config(..., true) ends with the transaction, so nothing outlives it (a
-- ban takes effect on the next transaction, as before, and a pooled connection carries nothing
-- to the next client); it clears only the exact claims text it was set for (the same text, the
-- same sub); and only code that can run SQL can set it: PostgREST sets request.* settings from
-- the request and nothing else, and pg_catalog.set_config is not in an exposed schema. A caller
-- who could run set_config could as well set request.jwt.claims to anyone's claims, so this opens
-- nothing that was closed.
-- Objects: private.caller_is_suspended(), private.refuse_suspended_caller() (create or replace:
-- grants and comments kept).
-- Destructive: nothing.

create or replace function private.caller_is_suspended()
returns boolean
language plpgsql
stable
-- Definer: reads the caller's own flags whatever the policies let the caller see.
security definer
set search_path = ''
as $$
begin
  -- The claims this transaction already checked (refuse_suspended_caller): a text comparison, no
  -- query and no JSON parsing. auth.jwt() prefers the legacy request.jwt.claim when it is set, so
  -- the shortcut is only taken when it is not.
  if nullif(current_setting('request.jwt.claim', true), '') is null
     and current_setting('private.caller_cleared', true) = current_setting('request.jwt.claims', true) then
    return false;
  end if;
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
declare
  claims text := coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                          nullif(current_setting('request.jwt.claims', true), ''));
begin
  if coalesce(
       (select u.banned or (u.locked and (u.locked_until is null or u.locked_until > now()))
          from public.users u
         where u.id = claims::jsonb ->> 'sub'),
       false) then
    raise exception 'this account is suspended' using errcode = 'P0001', hint = 'http:403';
  end if;
  if claims is not null then
    -- Transaction-local: private.caller_is_suspended() answers false for these claims until commit.
    perform set_config('private.caller_cleared', claims, true);
  end if;
end;
$$;
comment on function private.refuse_suspended_caller() is
  'Raises P0001 (hint http:403) when the caller is suspended (banned or locked); otherwise records the checked sub in the transaction-local private.caller_cleared, so the restrictive policies skip the lookup for the rest of the transaction. Called by _shared/db.ts in the RLS context statement of every user transaction.';
