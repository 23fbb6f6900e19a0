-- Rollback of 20261121140200_users_inactive_since.sql. Destructive: drops
-- public.users.inactive_since (which users were marked inactive, and since when).
drop trigger if exists users_clear_inactive on public.users;
drop function if exists private.clear_user_inactive();
drop index if exists public.users_last_seen_inactive_idx;
drop index if exists public.users_last_seen_active_idx;
alter table public.users drop column if exists inactive_since;
