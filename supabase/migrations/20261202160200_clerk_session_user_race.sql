-- Purpose: a new user's first sign-in is never lost when its session event and its user.created
-- arrive at the same moment (found by tests/clerk_sync_test.ts "session and user.created of a new
-- user at the same time", which failed now and then on a loaded machine). private.on_clerk_session
-- updated the user's row and, when that changed nothing, asked in a second statement whether the
-- row existed: a user.created committing between the two statements made the update miss the row
-- and the existence check find it, so the session was answered "stale" and its sign-in time
-- dropped. The handler now locks the row (select ... for update) before moving its times; a row
-- that exists is then the row the update sees, and "nothing changed" really is stale. The rest of
-- the handler (pending sessions, impersonation, tombstones, the lock order) is as
-- 20261202100100_clerk_event_handlers left it.
-- Objects: private.on_clerk_session(text, text, text, jsonb) (create or replace: grants and
-- comment kept).
-- Destructive: nothing.

create or replace function private.on_clerk_session(p_svix_id text, p_event_type text, p_user_id text, p_session jsonb)
returns text
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_started constant timestamptz := (p_session ->> 'started_at')::timestamptz;
  v_active constant timestamptz := (p_session ->> 'last_active_at')::timestamptz;
begin
  if coalesce((p_session ->> 'impersonated')::boolean, false) then
    -- Someone else (Clerk's actor) signed in as the user: not the user's activity, so nothing
    -- moves (last_sign_in_at, last_active_at, inactive_since). The start is audited, ids only.
    if p_event_type = 'session.created' then
      perform audit.append('clerk.session.impersonated', 'public', 'users', p_user_id,
        jsonb_strip_nulls(jsonb_build_object('impersonator_id', p_session ->> 'actor_id',
                                             'session_id', p_session ->> 'session_id')));
    end if;
    return 'impersonated';
  end if;

  for attempt in 1..2 loop
    -- Lock the user's row first, then move its times: the row cannot appear between the two, so
    -- "not changed" means stale. (Updating first and then asking whether the row exists let a
    -- user.created that committed between those two statements make a new user's first sign-in
    -- "stale", and its time was lost.)
    perform 1 from public.users u where u.id = p_user_id for update;
    if found then
      -- Only forward: a late event never moves a timestamp back.
      update public.users u
         set last_sign_in_at = greatest(u.last_sign_in_at, v_started),
             last_active_at = greatest(u.last_active_at, v_active)
       where u.id = p_user_id
         and (greatest(u.last_sign_in_at, v_started) is distinct from u.last_sign_in_at
              or greatest(u.last_active_at, v_active) is distinct from u.last_active_at);
      return case when found then 'applied' else 'stale' end;
    elsif exists (select 1 from private.clerk_user_tombstones t where t.user_id = p_user_id) then
      return 'tombstoned';
    end if;
    -- Unknown: wait for any user event of this user in flight (they hold the shared lock), then
    -- look again; a user created meanwhile is visible to the next statement.
    perform private.lock_clerk_user(p_user_id, true);
  end loop;
  -- Still unknown: keep the times in this delivery's inbox row; the user event that creates the
  -- user applies them (it waits for this transaction through the lock taken above).
  update private.clerk_webhook_inbox i
     set session_started_at = v_started, session_active_at = v_active
   where i.svix_id = p_svix_id;
  return 'pending';
end;
$$;
