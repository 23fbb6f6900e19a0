-- Purpose: a deleted Clerk user never comes back. Deleting a user leaves a tombstone (the Clerk id
-- and when it was deleted, nothing else), and a BEFORE INSERT trigger on public.users refuses any
-- tombstoned id, whoever inserts it: a late or replayed Clerk webhook, or the API's just-in-time
-- provisioning from a still-valid session token (P0001 with hint http:410 -> 410 Gone).
-- The deletion itself lives in ONE function, private.apply_clerk_user_deleted(), so the DSAR
-- erasure path can reroute through it later.
-- Concurrency: the deletion takes an exclusive transaction-scoped advisory lock on the user id,
-- every insert into public.users takes the shared one, so an insert racing a deletion waits for
-- it and then sees its tombstone (a plain existence check could miss an uncommitted tombstone).
-- Objects: table private.clerk_user_tombstones (+ RLS, grants); functions
-- private.lock_clerk_user(text, boolean), private.refuse_tombstoned_user() with trigger
-- users_refuse_tombstoned on public.users, private.apply_clerk_user_deleted(text, timestamptz).
-- Destructive: nothing (the function it creates deletes users when called).

create table private.clerk_user_tombstones (
  user_id text primary key
    constraint clerk_user_tombstones_user_id_is_clerk_id check (user_id ~ '^user_[A-Za-z0-9]{1,64}$'),
  deleted_at timestamptz not null,
  recorded_at timestamptz not null default now()
);

comment on table private.clerk_user_tombstones is
  'Clerk users that were deleted. Kept so that no late webhook and no just-in-time provisioning re-creates them. Holds the Clerk id only, no profile data.';
comment on column private.clerk_user_tombstones.user_id is 'Clerk user id (user_...) of the deleted user. Clerk never reuses ids.';
comment on column private.clerk_user_tombstones.deleted_at is 'When Clerk deleted the user (the event timestamp), or when the deletion was applied if the event had none.';
comment on column private.clerk_user_tombstones.recorded_at is 'When this database recorded the deletion.';

-- Automation only: no policy for authenticated, nothing for anon/authenticated at all.
alter table private.clerk_user_tombstones enable row level security;
revoke all on table private.clerk_user_tombstones from public, anon, authenticated;
grant select, insert, delete on table private.clerk_user_tombstones to service_role;

-- Serialises the lifecycle of one Clerk id across transactions: exclusive for a deletion, shared
-- for inserts and webhook upserts (they do not block each other, only a deletion).
create function private.lock_clerk_user(user_id text, exclusive boolean)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if exclusive then
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('public.users'), pg_catalog.hashtext(user_id));
  else
    perform pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtext('public.users'), pg_catalog.hashtext(user_id));
  end if;
end;
$$;
comment on function private.lock_clerk_user(text, boolean) is
  'Transaction-scoped advisory lock on a Clerk user id: exclusive while deleting, shared while inserting or upserting.';

create function private.refuse_tombstoned_user()
returns trigger
language plpgsql
-- Definer: the API inserts as authenticated, which cannot (and must not) read the tombstones.
security definer
set search_path = ''
as $$
begin
  perform private.lock_clerk_user(new.id, false);
  if exists (select 1 from private.clerk_user_tombstones t where t.user_id = new.id) then
    raise exception 'this user has been deleted'
      using errcode = 'P0001', hint = 'http:410';
  end if;
  return new;
end;
$$;
comment on function private.refuse_tombstoned_user() is
  'BEFORE INSERT trigger on public.users: refuses ids of deleted Clerk users (P0001, hint http:410).';

create trigger users_refuse_tombstoned
  before insert on public.users
  for each row execute function private.refuse_tombstoned_user();

create function private.apply_clerk_user_deleted(user_id text, deleted_at timestamptz)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
declare
  tombstoned integer;
  removed integer;
begin
  if user_id is null or deleted_at is null then
    raise exception 'apply_clerk_user_deleted needs a user id and a deletion time' using errcode = '22023';
  end if;
  perform private.lock_clerk_user(user_id, true);

  insert into private.clerk_user_tombstones as t (user_id, deleted_at)
  values (apply_clerk_user_deleted.user_id, apply_clerk_user_deleted.deleted_at)
  on conflict on constraint clerk_user_tombstones_pkey do nothing;
  get diagnostics tombstoned = row_count;

  -- Cascades to projects, and from them to workspace_tabs and workspace_history.
  delete from public.users u where u.id = apply_clerk_user_deleted.user_id;
  get diagnostics removed = row_count;

  return tombstoned > 0 or removed > 0;
end;
$$;
comment on function private.apply_clerk_user_deleted(text, timestamptz) is
  'Deletes a Clerk user: records the tombstone and removes the user''s rows (cascading to projects, tabs, history). Idempotent; returns whether anything changed. The one deletion path (DSAR erasure reroutes through it).';

revoke all on function private.lock_clerk_user(text, boolean), private.refuse_tombstoned_user(),
  private.apply_clerk_user_deleted(text, timestamptz) from public, anon, authenticated;
grant execute on function private.lock_clerk_user(text, boolean), private.apply_clerk_user_deleted(text, timestamptz)
  to service_role;
