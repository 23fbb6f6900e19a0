-- Purpose: users synced from Clerk. The primary key is Clerk's user id (text, `user_...`), never a
-- uuid. Clerk owns identity fields (email, names, image, Clerk timestamps); this backend owns
-- `role`; the user owns only `display_name` and `preferences`.
-- Objects: table public.users (+ RLS, grants, triggers); functions private.current_user_role(),
-- private.is_staff(), private.is_admin().
-- Destructive: nothing.

create table public.users (
  id text primary key
    constraint users_id_is_clerk_id check (id ~ '^user_[A-Za-z0-9]{1,64}$'),
  email text
    constraint users_email_shape check (char_length(email) <= 320 and email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  first_name text constraint users_first_name_length check (char_length(first_name) <= 200),
  last_name text constraint users_last_name_length check (char_length(last_name) <= 200),
  image_url text constraint users_image_url_shape check (char_length(image_url) <= 2048 and image_url ~ '^https://'),
  display_name text constraint users_display_name_length check (char_length(display_name) between 1 and 100),
  preferences jsonb not null default '{}'::jsonb
    constraint users_preferences_object check (jsonb_typeof(preferences) = 'object' and pg_column_size(preferences) <= 16384),
  role text not null default 'user'
    constraint users_role_known check (role in ('user', 'support', 'admin')),
  clerk_created_at timestamptz,
  clerk_updated_at timestamptz,
  last_sign_in_at timestamptz,
  last_active_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.users is
  'One row per Clerk user. Created by the Clerk webhook or just in time by the API from a verified session token.';
comment on column public.users.id is 'Clerk user id (user_...). Text, not uuid: auth.uid() must never be used with it.';
comment on column public.users.email is 'Primary email as Clerk reports it (the address whose id is primary_email_address_id). Clerk-owned.';
comment on column public.users.role is 'Authorization role owned by this backend (user | support | admin); never taken from Clerk or a token claim.';
comment on column public.users.clerk_created_at is 'Clerk''s created_at for the user.';
comment on column public.users.clerk_updated_at is 'Clerk''s updated_at of the last applied webhook; older events are refused so late deliveries cannot roll data back.';
comment on column public.users.display_name is 'Optional name chosen in this app; owned by the user.';
comment on column public.users.preferences is 'App preferences owned by the user (a JSON object, at most 16 kB).';
comment on column public.users.last_sign_in_at is 'Time of the last Clerk session.created event.';
comment on column public.users.last_active_at is 'Time of the last observed activity (session events).';

create trigger users_set_updated_at
  before update on public.users
  for each row execute function private.set_updated_at();

-- Staff helpers. SECURITY DEFINER so a policy can read the caller's role without the caller
-- needing to see other rows; search_path is empty and every name is qualified.
create function private.current_user_role()
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select u.role from public.users u where u.id = (select auth.jwt()) ->> 'sub'
$$;
comment on function private.current_user_role() is
  'Role column of the calling user (from the verified JWT sub); null for unknown callers.';

create function private.is_staff()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(private.current_user_role() in ('support', 'admin'), false)
$$;
comment on function private.is_staff() is 'True when the caller is support or admin according to public.users.role.';

create function private.is_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(private.current_user_role() = 'admin', false)
$$;
comment on function private.is_admin() is 'True when the caller is an admin according to public.users.role.';

revoke all on function private.current_user_role(), private.is_staff(), private.is_admin() from public, anon;
grant execute on function private.current_user_role(), private.is_staff(), private.is_admin()
  to authenticated, service_role;

-- Row-level security: one policy per verb for authenticated; anon has no grant at all.
alter table public.users enable row level security;

create policy users_select_authenticated on public.users
  for select to authenticated
  using (id = ((select auth.jwt()) ->> 'sub') or (select private.is_staff()));

-- Just-in-time provisioning: a user may create only their own row, with the email their verified
-- token carries (or none); role and Clerk fields are not in the column grant.
create policy users_insert_authenticated on public.users
  for insert to authenticated
  with check (
    id = ((select auth.jwt()) ->> 'sub')
    and (email is null or email = ((select auth.jwt()) ->> 'email'))
  );

create policy users_update_authenticated on public.users
  for update to authenticated
  using (id = ((select auth.jwt()) ->> 'sub'))
  with check (id = ((select auth.jwt()) ->> 'sub'));

-- No delete policy: users are removed by the Clerk webhook / erasure path (service role).

revoke all on table public.users from anon, authenticated;
grant select on table public.users to authenticated;
grant insert (id, email, first_name, last_name, image_url) on table public.users to authenticated;
grant update (display_name, preferences) on table public.users to authenticated;
grant select, insert, update, delete on table public.users to service_role;
