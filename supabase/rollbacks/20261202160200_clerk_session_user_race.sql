-- Rollback of 20261202160200_clerk_session_user_race: private.on_clerk_session as
-- 20261202100100_clerk_event_handlers created it (update first, then the existence check).

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
    -- Only forward: a late event never moves a timestamp back.
    update public.users u
       set last_sign_in_at = greatest(u.last_sign_in_at, v_started),
           last_active_at = greatest(u.last_active_at, v_active)
     where u.id = p_user_id
       and (greatest(u.last_sign_in_at, v_started) is distinct from u.last_sign_in_at
            or greatest(u.last_active_at, v_active) is distinct from u.last_active_at);
    if found then
      return 'applied';
    elsif exists (select 1 from public.users u where u.id = p_user_id) then
      return 'stale';
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
