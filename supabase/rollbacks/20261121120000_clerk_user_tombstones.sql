-- Rollback of 20261121120000_clerk_user_tombstones.sql. Destructive: drops the tombstones, after
-- which a late webhook or just-in-time provisioning could re-create deleted users.
drop trigger if exists users_refuse_tombstoned on public.users;
drop function if exists private.apply_clerk_user_deleted(text, timestamptz);
drop function if exists private.refuse_tombstoned_user();
drop function if exists private.lock_clerk_user(text, boolean);
drop table if exists private.clerk_user_tombstones;
