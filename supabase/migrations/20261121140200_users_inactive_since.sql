-- Purpose: inactive users. public.users.inactive_since is set by the mark-inactive-users job
-- (migration 20261121140300) once a user has shown no activity for the idle time in ops.settings
-- (user_inactive_after), and is cleared as soon as the user is active again: a BEFORE UPDATE
-- trigger clears it whenever last_active_at or last_sign_in_at moves (Clerk session webhooks),
-- and the job clears marks that no longer hold (after the idle time was raised).
-- "Last seen" is greatest(last_active_at, last_sign_in_at, created_at): a user never seen since
-- being created counts from their creation.
-- Objects: column public.users.inactive_since; indexes users_last_seen_active_idx,
-- users_last_seen_inactive_idx; function private.clear_user_inactive() with trigger
-- users_clear_inactive.
-- Destructive: nothing.

alter table public.users add column inactive_since timestamptz;
comment on column public.users.inactive_since is
  'Set by the mark-inactive-users job when the user has not been seen (greatest of last_active_at, last_sign_in_at, created_at) for ops.settings user_inactive_after; null while active. Cleared when activity moves again.';

-- The job's two lookups, each on its own side of the mark.
create index users_last_seen_active_idx on public.users ((greatest(last_active_at, last_sign_in_at, created_at)))
  where inactive_since is null;
create index users_last_seen_inactive_idx on public.users ((greatest(last_active_at, last_sign_in_at, created_at)))
  where inactive_since is not null;

create function private.clear_user_inactive()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  new.inactive_since := null;
  return new;
end;
$$;
comment on function private.clear_user_inactive() is
  'BEFORE UPDATE trigger on public.users: an inactive user whose last_active_at or last_sign_in_at moves is active again (inactive_since := null).';
revoke all on function private.clear_user_inactive() from public, anon, authenticated, service_role;

create trigger users_clear_inactive
  before update of last_active_at, last_sign_in_at on public.users
  for each row
  when (old.inactive_since is not null
        and (new.last_active_at is distinct from old.last_active_at
             or new.last_sign_in_at is distinct from old.last_sign_in_at))
  execute function private.clear_user_inactive();
