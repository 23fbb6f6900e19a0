-- Purpose: exactly-once, order-safe application of Clerk webhook events (delivered by Svix at
-- least once, in any order, possibly replayed days later). Every delivery is recorded in an
-- inbox keyed on its svix-id in the same transaction as its effect, so a retried or replayed
-- delivery is a no-op; user upserts are guarded by Clerk's updated_at so an older event never
-- overwrites a newer one; session timestamps only move forward; tombstoned users stay deleted.
-- The inbox holds no payload (it carries personal data): id, type, Clerk user id, timestamps and
-- the outcome only.
-- Objects: table private.clerk_webhook_inbox (+ RLS, grants, indexes); function
-- private.apply_clerk_event(...).
-- Destructive: nothing.

create table private.clerk_webhook_inbox (
  svix_id text primary key
    constraint clerk_webhook_inbox_svix_id_shape check (char_length(svix_id) <= 256 and svix_id ~ '^[A-Za-z0-9_.:-]+$'),
  event_type text not null
    constraint clerk_webhook_inbox_event_type_shape check (event_type ~ '^[A-Za-z0-9_.-]{1,100}$'),
  clerk_user_id text
    constraint clerk_webhook_inbox_clerk_user_id_is_clerk_id check (clerk_user_id ~ '^user_[A-Za-z0-9]{1,64}$'),
  event_at timestamptz,
  received_at timestamptz not null default now(),
  outcome text not null
    constraint clerk_webhook_inbox_outcome_known
      check (outcome in ('applied', 'stale', 'tombstoned', 'unknown_user', 'ignored'))
);

comment on table private.clerk_webhook_inbox is
  'One row per Clerk webhook delivery (svix-id) that was verified and processed; written in the same transaction as its effect. No payload: it would carry personal data. Pruned by lifecycle jobs (rows are kept at least 30 days).';
comment on column private.clerk_webhook_inbox.svix_id is 'The svix-id header: the same for every retry and replay of one message.';
comment on column private.clerk_webhook_inbox.event_type is 'Clerk event type (user.created, session.ended, ...), also for types this backend ignores.';
comment on column private.clerk_webhook_inbox.clerk_user_id is 'The Clerk user the event concerns, when it concerns one.';
comment on column private.clerk_webhook_inbox.event_at is 'The event''s own timestamp (Clerk envelope `timestamp`), when present.';
comment on column private.clerk_webhook_inbox.received_at is 'When the delivery was applied (transaction time). Retention is measured on it.';
comment on column private.clerk_webhook_inbox.outcome is
  'applied: changed data | stale: older than what is stored, nothing changed | tombstoned: the user was deleted, nothing changed | unknown_user: session event for a user not stored | ignored: event type not handled.';

-- Retention pruning by age (lifecycle jobs).
create index clerk_webhook_inbox_received_at_idx on private.clerk_webhook_inbox (received_at);
-- A user's deliveries (support, DSAR).
create index clerk_webhook_inbox_clerk_user_id_idx on private.clerk_webhook_inbox (clerk_user_id)
  where clerk_user_id is not null;

-- Automation only: no policy for authenticated, nothing for anon/authenticated at all.
alter table private.clerk_webhook_inbox enable row level security;
revoke all on table private.clerk_webhook_inbox from public, anon, authenticated;
grant select, insert, update, delete on table private.clerk_webhook_inbox to service_role;

-- One call per delivery, one round trip: records the delivery and applies its effect only if
-- this svix-id was not recorded before. A concurrent duplicate waits on the inbox row's unique
-- index until the first transaction ends, then finds the row and does nothing.
create function private.apply_clerk_event(
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
    if not private.apply_clerk_user_deleted(p_user_id, coalesce(p_event_at, now())) then
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
    update private.clerk_webhook_inbox i set outcome = result where i.svix_id = p_svix_id;
  end if;
  return result;
end;
$$;
comment on function private.apply_clerk_event(text, text, text, timestamptz, text, text, text, text,
  timestamptz, timestamptz, timestamptz, timestamptz) is
  'Applies one verified Clerk webhook delivery exactly once: records it in private.clerk_webhook_inbox and, only if its svix-id is new, upserts the user (guarded by clerk_updated_at), deletes it (tombstone), or moves session timestamps forward. Returns applied | stale | tombstoned | unknown_user | ignored | duplicate.';

revoke all on function private.apply_clerk_event(text, text, text, timestamptz, text, text, text, text,
  timestamptz, timestamptz, timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function private.apply_clerk_event(text, text, text, timestamptz, text, text, text, text,
  timestamptz, timestamptz, timestamptz, timestamptz) to service_role;
