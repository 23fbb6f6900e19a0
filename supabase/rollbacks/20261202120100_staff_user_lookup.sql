-- Rollback of 20261202120100_staff_user_lookup: the lookup function and its indexes go.
drop function if exists private.staff_find_users(text, text, integer);
drop index if exists public.users_full_name_lower_prefix_idx;
drop index if exists public.users_display_name_lower_prefix_idx;
drop index if exists public.users_email_lower_prefix_idx;
