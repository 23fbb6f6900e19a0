-- Rollback of 20261202100100_clerk_event_handlers.sql: drops the per-type handlers and the
-- dispatcher; private.apply_clerk_event is again the one function that does everything, as
-- migration 20261121150400 defined it (same signature and grants).

drop function private.apply_clerk_delivery(text, text, text, timestamptz, jsonb, text[]);
drop function private.on_clerk_session(text, text, text, jsonb);
drop function private.on_clerk_user_deleted(text, timestamptz);
drop function private.on_clerk_user_upsert(text, jsonb);
drop function private.apply_pending_clerk_sessions(text);
drop function private.count_clerk_sync_warnings(text[]);

create or replace function private.apply_clerk_event(
  p_svix_id text,
  p_event_type text,
  p_user_id text default null,
  p_event_at timestamptz default null,
  p_email text default null,
  p_first_name text default null,
  p_last_name text default null,
  p_image_url text default null,
  p_clerk_created_at timestamptz default null,
  p_clerk_updated_at timestamptz default null,
  p_last_sign_in_at timestamptz default null,
  p_last_active_at timestamptz default null
)
returns text
language plpgsql
security invoker
set search_path = ''
as $$
declare
  handled constant text[] := array[
    'user.created', 'user.updated', 'user.deleted',
    'session.created', 'session.ended', 'session.removed', 'session.revoked'
  ];
  result text := 'applied';
begin
  if p_svix_id is null or p_event_type is null then
    raise exception 'apply_clerk_event needs a svix id and an event type' using errcode = '22023';
  end if;
  if p_event_type = any (handled) and p_user_id is null then
    raise exception '% needs a user id', p_event_type using errcode = '22023';
  end if;
  if p_event_type in ('user.created', 'user.updated') and p_clerk_updated_at is null then
    raise exception '% needs Clerk''s updated_at', p_event_type using errcode = '22023';
  end if;

  insert into private.clerk_webhook_inbox (svix_id, event_type, clerk_user_id, event_at, outcome)
  values (p_svix_id, p_event_type, p_user_id, p_event_at,
          case when p_event_type = any (handled) then 'applied' else 'ignored' end)
  on conflict (svix_id) do nothing;
  if not found then
    return 'duplicate';
  end if;

  if p_event_type in ('user.created', 'user.updated') then
    perform private.lock_clerk_user(p_user_id, false);
    if exists (select 1 from private.clerk_user_tombstones t where t.user_id = p_user_id) then
      result := 'tombstoned';
    else
      -- Completes a row provisioned just in time (clerk_updated_at null); never touches role,
      -- display_name or preferences.
      insert into public.users as u
        (id, email, first_name, last_name, image_url, clerk_created_at, clerk_updated_at,
         last_sign_in_at, last_active_at)
      values
        (p_user_id, p_email, p_first_name, p_last_name, p_image_url, p_clerk_created_at, p_clerk_updated_at,
         p_last_sign_in_at, p_last_active_at)
      on conflict (id) do update
        set email = excluded.email,
            first_name = excluded.first_name,
            last_name = excluded.last_name,
            image_url = excluded.image_url,
            clerk_created_at = coalesce(excluded.clerk_created_at, u.clerk_created_at),
            clerk_updated_at = excluded.clerk_updated_at,
            last_sign_in_at = greatest(u.last_sign_in_at, excluded.last_sign_in_at),
            last_active_at = greatest(u.last_active_at, excluded.last_active_at)
        where u.clerk_updated_at is null or u.clerk_updated_at < excluded.clerk_updated_at;
      if not found then
        result := 'stale';
      end if;
    end if;

  elsif p_event_type = 'user.deleted' then
    -- Through a DSAR erasure (requested_as clerk, no grace, executed now): data map, tombstone at
    -- the event time, counts and proof; false when the user was erased before.
    if not privacy.erase_deleted_clerk_user(p_user_id, coalesce(p_event_at, now())) then
      result := 'tombstoned';
    end if;

  elsif p_event_type like 'session.%' and p_event_type = any (handled) then
    -- Only forward: a late event never moves a timestamp back.
    update public.users u
       set last_sign_in_at = greatest(u.last_sign_in_at, p_last_sign_in_at),
           last_active_at = greatest(u.last_active_at, p_last_active_at)
     where u.id = p_user_id
       and (greatest(u.last_sign_in_at, p_last_sign_in_at) is distinct from u.last_sign_in_at
            or greatest(u.last_active_at, p_last_active_at) is distinct from u.last_active_at);
    if not found then
      if exists (select 1 from public.users u where u.id = p_user_id) then
        result := 'stale';
      elsif exists (select 1 from private.clerk_user_tombstones t where t.user_id = p_user_id) then
        result := 'tombstoned';
      else
        result := 'unknown_user';
      end if;
    end if;

  else
    return 'ignored';
  end if;

  if result <> 'applied' then
    -- A delivery about an erased user keeps no link to them (the tombstone is the only one).
    update private.clerk_webhook_inbox i
       set outcome = result,
           clerk_user_id = case when result = 'tombstoned' then null else i.clerk_user_id end
     where i.svix_id = p_svix_id;
  end if;
  return result;
end;
$$;
comment on function private.apply_clerk_event(text, text, text, timestamptz, text, text, text, text,
  timestamptz, timestamptz, timestamptz, timestamptz) is
  'Applies one verified Clerk webhook delivery exactly once: records it in private.clerk_webhook_inbox and, only if its svix-id is new, upserts the user (guarded by clerk_updated_at), deletes it (tombstone), or moves session timestamps forward. user.deleted goes through privacy.erase_deleted_clerk_user (a DSAR erasure executed at once). Deliveries about erased users keep no user id. Returns applied | stale | tombstoned | unknown_user | ignored | duplicate.';
