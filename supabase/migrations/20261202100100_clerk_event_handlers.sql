-- Purpose: one small function per Clerk event type behind a thin dispatcher, instead of one
-- function that every change copies whole (private.apply_clerk_event was defined in full by
-- 20261121120100 and again by 20261121150400). The dispatcher private.apply_clerk_delivery keeps
-- the two guarantees: exactly once (the inbox row keyed on svix-id is inserted first, the effect
-- runs only if that insert happened, in the same transaction) and order safety (user events are
-- guarded by Clerk's updated_at, session timestamps only move forward, tombstoned users stay
-- deleted). Event data arrives as one jsonb object (the receiver's parsed, normalised fields, never
-- the raw payload), so a new field changes one handler, not every signature.
-- New behaviour: user events keep username, phone number, external id, email verification,
-- has_image, banned, locked (+ lockout end); a session event for a user not known yet is kept in
-- its inbox row (pending) and applied by the user event that creates the user; a session started
-- by impersonation (Clerk actor) is audited with the impersonator's id and never moves the user's
-- own activity; payloads with fields that could not be stored count warnings in
-- ops.clerk_sync_warnings.
-- Objects: functions private.count_clerk_sync_warnings(text[]), private.apply_pending_clerk_sessions(text),
-- private.on_clerk_user_upsert(text, jsonb), private.on_clerk_user_deleted(text, timestamptz),
-- private.on_clerk_session(text, text, text, jsonb), private.apply_clerk_delivery(...);
-- replaces private.apply_clerk_event(...) (same signature and grants) by a thin wrapper kept for
-- existing callers (tests, benchmarks).
-- Destructive: nothing.

create function private.count_clerk_sync_warnings(kinds text[])
returns void
language plpgsql
-- Definer: the webhook's service_role has no access to the ops schema; this is its one write there.
security definer
set search_path = ''
as $$
declare
  v_bucket constant timestamptz := date_trunc('hour', now());
begin
  if kinds is null or cardinality(kinds) = 0 then
    return;
  end if;
  insert into ops.clerk_sync_warnings as w (bucket, kind, count)
  select v_bucket, k.kind, count(*) from unnest(kinds) as k(kind) group by k.kind
  on conflict on constraint clerk_sync_warnings_pkey do update set count = w.count + excluded.count;
  -- Retention on write: a handful of rows per hour; the primary key leads with bucket.
  delete from ops.clerk_sync_warnings w where w.bucket < v_bucket - interval '90 days';
end;
$$;
comment on function private.count_clerk_sync_warnings(text[]) is
  'Adds one to ops.clerk_sync_warnings (this hour, kind) per element of kinds; drops buckets older than 90 days.';

create function private.apply_pending_clerk_sessions(p_user_id text)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  -- Session events that arrived before the user: their times move the new row forward only.
  with applied as (
    update private.clerk_webhook_inbox i
       set outcome = 'applied'
     where i.clerk_user_id = p_user_id and i.outcome = 'pending'
    returning i.session_started_at, i.session_active_at
  )
  update public.users u
     set last_sign_in_at = greatest(u.last_sign_in_at, (select max(a.session_started_at) from applied a)),
         last_active_at = greatest(u.last_active_at, (select max(a.session_active_at) from applied a))
   where u.id = p_user_id
     and exists (select 1 from applied);
end;
$$;
comment on function private.apply_pending_clerk_sessions(text) is
  'Applies the pending session events (inbox outcome pending) of a user that just appeared: last_sign_in_at / last_active_at move forward, the inbox rows become applied.';

-- user.created / user.updated. p_user: the receiver's normalised fields (events.ts).
create function private.on_clerk_user_upsert(p_user_id text, p_user jsonb)
returns text
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if (p_user ->> 'clerk_updated_at') is null then
    raise exception 'a user event needs Clerk''s updated_at' using errcode = '22023';
  end if;
  perform private.lock_clerk_user(p_user_id, false);
  if exists (select 1 from private.clerk_user_tombstones t where t.user_id = p_user_id) then
    return 'tombstoned';
  end if;
  -- Completes a row provisioned just in time (clerk_updated_at null); never touches role,
  -- display_name or preferences. An event older than (or as old as) the stored state is stale,
  -- which is what orders bans and unbans.
  insert into public.users as u
    (id, email, email_verified, username, phone_number, external_id, first_name, last_name, image_url,
     has_image, banned, locked, locked_until, clerk_created_at, clerk_updated_at, last_sign_in_at, last_active_at)
  select p_user_id, r.email, r.email_verified, r.username, r.phone_number, r.external_id, r.first_name, r.last_name,
         r.image_url, r.has_image, coalesce(r.banned, false), coalesce(r.locked, false),
         case when coalesce(r.locked, false) then r.locked_until end,
         r.clerk_created_at, r.clerk_updated_at, r.last_sign_in_at, r.last_active_at
    from jsonb_to_record(p_user) as r(
      email text, email_verified boolean, username text, phone_number text, external_id text,
      first_name text, last_name text, image_url text, has_image boolean, banned boolean, locked boolean,
      locked_until timestamptz, clerk_created_at timestamptz, clerk_updated_at timestamptz,
      last_sign_in_at timestamptz, last_active_at timestamptz)
  on conflict (id) do update
    set email = excluded.email,
        email_verified = excluded.email_verified,
        username = excluded.username,
        phone_number = excluded.phone_number,
        external_id = excluded.external_id,
        first_name = excluded.first_name,
        last_name = excluded.last_name,
        image_url = excluded.image_url,
        has_image = excluded.has_image,
        banned = excluded.banned,
        locked = excluded.locked,
        locked_until = excluded.locked_until,
        clerk_created_at = coalesce(excluded.clerk_created_at, u.clerk_created_at),
        clerk_updated_at = excluded.clerk_updated_at,
        last_sign_in_at = greatest(u.last_sign_in_at, excluded.last_sign_in_at),
        last_active_at = greatest(u.last_active_at, excluded.last_active_at)
    where u.clerk_updated_at is null or u.clerk_updated_at < excluded.clerk_updated_at;
  if not found then
    return 'stale';
  end if;
  perform private.apply_pending_clerk_sessions(p_user_id);
  return 'applied';
end;
$$;
comment on function private.on_clerk_user_upsert(text, jsonb) is
  'Clerk user.created / user.updated: upserts public.users from the normalised fields, guarded by clerk_updated_at, then applies pending session events. applied | stale | tombstoned.';

-- user.deleted: through a DSAR erasure (requested_as clerk, no grace, executed now).
create function private.on_clerk_user_deleted(p_user_id text, p_deleted_at timestamptz)
returns text
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if privacy.erase_deleted_clerk_user(p_user_id, coalesce(p_deleted_at, now())) then
    return 'applied';
  end if;
  return 'tombstoned';
end;
$$;
comment on function private.on_clerk_user_deleted(text, timestamptz) is
  'Clerk user.deleted: privacy.erase_deleted_clerk_user (erasure, tombstone at the event time). applied | tombstoned (erased before).';

-- session.created / ended / removed / revoked. p_session: session_id, started_at (created only),
-- last_active_at, impersonated, actor_id.
create function private.on_clerk_session(p_svix_id text, p_event_type text, p_user_id text, p_session jsonb)
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
comment on function private.on_clerk_session(text, text, text, jsonb) is
  'Clerk session events: move last_sign_in_at / last_active_at forward; for a user not known yet keep the times in the inbox row (pending); impersonated sessions are audited (clerk.session.impersonated, impersonator id) and change nothing. applied | stale | tombstoned | pending | impersonated.';

-- The dispatcher: one call per delivery, one round trip. A concurrent duplicate waits on the
-- inbox row's unique index until the first transaction ends, then finds the row and does nothing.
create function private.apply_clerk_delivery(
  p_svix_id text,
  p_event_type text,
  p_user_id text default null,
  p_event_at timestamptz default null,
  p_data jsonb default '{}'::jsonb,
  p_warnings text[] default '{}'::text[]
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
  result text;
begin
  if p_svix_id is null or p_event_type is null then
    raise exception 'apply_clerk_delivery needs a svix id and an event type' using errcode = '22023';
  end if;
  if p_event_type = any (handled) and p_user_id is null then
    raise exception '% needs a user id', p_event_type using errcode = '22023';
  end if;

  insert into private.clerk_webhook_inbox (svix_id, event_type, clerk_user_id, event_at, outcome)
  values (p_svix_id, p_event_type, case when p_event_type = any (handled) then p_user_id end, p_event_at,
          case when p_event_type = any (handled) then 'applied' else 'ignored' end)
  on conflict (svix_id) do nothing;
  if not found then
    return 'duplicate';
  end if;

  result := case
    when p_event_type in ('user.created', 'user.updated') then private.on_clerk_user_upsert(p_user_id, coalesce(p_data, '{}'))
    when p_event_type = 'user.deleted' then private.on_clerk_user_deleted(p_user_id, p_event_at)
    when p_event_type like 'session.%' and p_event_type = any (handled)
      then private.on_clerk_session(p_svix_id, p_event_type, p_user_id, coalesce(p_data, '{}'))
    else 'ignored'
  end;

  perform private.count_clerk_sync_warnings(p_warnings);
  if result not in ('applied', 'ignored') then
    -- A delivery about an erased user keeps no link to them (the tombstone is the only one).
    update private.clerk_webhook_inbox i
       set outcome = result,
           clerk_user_id = case when result = 'tombstoned' then null else i.clerk_user_id end
     where i.svix_id = p_svix_id;
  end if;
  return result;
end;
$$;
comment on function private.apply_clerk_delivery(text, text, text, timestamptz, jsonb, text[]) is
  'Applies one verified Clerk webhook delivery exactly once: records it in private.clerk_webhook_inbox and, only if its svix-id is new, runs the handler of its type (on_clerk_user_upsert, on_clerk_user_deleted, on_clerk_session) with the normalised fields in p_data, and counts p_warnings. Returns applied | stale | tombstoned | pending | impersonated | ignored | duplicate.';

-- The former entry point, kept as a thin wrapper for existing callers (pgTAP, benchmarks): user
-- events from it carry no ban, lock or identifiers beyond email.
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
language sql
security invoker
set search_path = ''
as $$
  select private.apply_clerk_delivery(p_svix_id, p_event_type, p_user_id, p_event_at,
    case when p_event_type like 'session.%'
      then jsonb_build_object('started_at', p_last_sign_in_at, 'last_active_at', p_last_active_at)
      else jsonb_build_object('email', p_email, 'first_name', p_first_name, 'last_name', p_last_name,
                              'image_url', p_image_url, 'clerk_created_at', p_clerk_created_at,
                              'clerk_updated_at', p_clerk_updated_at, 'last_sign_in_at', p_last_sign_in_at,
                              'last_active_at', p_last_active_at)
    end)
$$;
comment on function private.apply_clerk_event(text, text, text, timestamptz, text, text, text, text,
  timestamptz, timestamptz, timestamptz, timestamptz) is
  'Former entry point, a thin wrapper of private.apply_clerk_delivery (email, names, image and timestamps only). The receiver calls apply_clerk_delivery.';

revoke all on function private.count_clerk_sync_warnings(text[]), private.apply_pending_clerk_sessions(text),
  private.on_clerk_user_upsert(text, jsonb), private.on_clerk_user_deleted(text, timestamptz),
  private.on_clerk_session(text, text, text, jsonb),
  private.apply_clerk_delivery(text, text, text, timestamptz, jsonb, text[])
  from public, anon, authenticated;
grant execute on function private.count_clerk_sync_warnings(text[]), private.apply_pending_clerk_sessions(text),
  private.on_clerk_user_upsert(text, jsonb), private.on_clerk_user_deleted(text, timestamptz),
  private.on_clerk_session(text, text, text, jsonb),
  private.apply_clerk_delivery(text, text, text, timestamptz, jsonb, text[])
  to service_role;
