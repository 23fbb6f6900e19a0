-- Rollback of 20261121100100_users.sql. Destructive: drops public.users and every row in it.
drop table if exists public.users;
drop function if exists private.is_admin();
drop function if exists private.is_staff();
drop function if exists private.current_user_role();
