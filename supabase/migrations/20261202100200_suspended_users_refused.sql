-- Purpose: Clerk bans and locks take effect in this backend, decided in the database so every
-- path is covered by the same rule. A caller whose public.users row is banned, or locked and the
-- lockout not over, is "suspended":
--   * Edge Functions: _shared/db.ts calls private.refuse_suspended_caller() in the statement that
--     sets the RLS context of every user transaction (no extra round trip): P0001 with hint
--     http:403 -> 403 problem+json before any query of the request ran (GET /me's just-in-time
--     provisioning included).
--   * Data API (PostgREST with Clerk third-party auth) and Realtime: one RESTRICTIVE policy per
--     table and verb next to the permissive ones: a suspended caller reads nothing and every
--     write is refused (42501). private.data_api_pre_request() gives PostgREST a clean 403 when
--     set as its pre-request hook (docs/WEBHOOKS.md, "Bans and locks": an operator step on the
--     hosted project, not a migration).
-- Unbanning (a newer user.updated with banned = false) restores access on the next request:
-- nothing is cached. Staff see the flags in the users row (banned, locked, locked_until).
-- Objects: functions private.caller_is_suspended(), private.refuse_suspended_caller(),
-- private.data_api_pre_request(); restrictive policies *_not_suspended on public.users,
-- public.projects, public.workspace_tabs, public.workspace_history.
-- Destructive: nothing.

create function private.caller_is_suspended()
returns boolean
language sql
stable
-- Definer: reads the caller's own flags whatever the policies let the caller see.
security definer
set search_path = ''
as $$
  select coalesce(
    (select u.banned or (u.locked and (u.locked_until is null or u.locked_until > now()))
       from public.users u
      where u.id = (select auth.jwt()) ->> 'sub'),
    false)
$$;
comment on function private.caller_is_suspended() is
  'True when the calling user (JWT sub) is banned, or locked and the lockout is not over. False for unknown callers (just-in-time provisioning may create them).';

create function private.refuse_suspended_caller()
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

create function private.data_api_pre_request()
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- PT403: PostgREST answers with that HTTP status.
  if private.caller_is_suspended() then
    raise sqlstate 'PT403' using message = 'this account is suspended';
  end if;
end;
$$;
comment on function private.data_api_pre_request() is
  'PostgREST pre-request hook (pgrst.db_pre_request on the authenticator role): 403 for a suspended caller. The restrictive policies refuse such callers even without it.';

revoke all on function private.caller_is_suspended(), private.refuse_suspended_caller(),
  private.data_api_pre_request() from public, anon;
grant execute on function private.caller_is_suspended(), private.refuse_suspended_caller(),
  private.data_api_pre_request() to authenticated, service_role;

-- Restrictive: ANDed with the one permissive policy per verb, so the rules stay in those.
create policy users_select_authenticated_not_suspended on public.users
  as restrictive for select to authenticated
  using (not (select private.caller_is_suspended()));
create policy users_insert_authenticated_not_suspended on public.users
  as restrictive for insert to authenticated
  with check (not (select private.caller_is_suspended()));
create policy users_update_authenticated_not_suspended on public.users
  as restrictive for update to authenticated
  using (not (select private.caller_is_suspended()))
  with check (not (select private.caller_is_suspended()));

create policy projects_select_authenticated_not_suspended on public.projects
  as restrictive for select to authenticated
  using (not (select private.caller_is_suspended()));
create policy projects_insert_authenticated_not_suspended on public.projects
  as restrictive for insert to authenticated
  with check (not (select private.caller_is_suspended()));
create policy projects_update_authenticated_not_suspended on public.projects
  as restrictive for update to authenticated
  using (not (select private.caller_is_suspended()))
  with check (not (select private.caller_is_suspended()));

create policy workspace_tabs_select_authenticated_not_suspended on public.workspace_tabs
  as restrictive for select to authenticated
  using (not (select private.caller_is_suspended()));
create policy workspace_tabs_insert_authenticated_not_suspended on public.workspace_tabs
  as restrictive for insert to authenticated
  with check (not (select private.caller_is_suspended()));
create policy workspace_tabs_update_authenticated_not_suspended on public.workspace_tabs
  as restrictive for update to authenticated
  using (not (select private.caller_is_suspended()))
  with check (not (select private.caller_is_suspended()));
create policy workspace_tabs_delete_authenticated_not_suspended on public.workspace_tabs
  as restrictive for delete to authenticated
  using (not (select private.caller_is_suspended()));

create policy workspace_history_select_authenticated_not_suspended on public.workspace_history
  as restrictive for select to authenticated
  using (not (select private.caller_is_suspended()));
