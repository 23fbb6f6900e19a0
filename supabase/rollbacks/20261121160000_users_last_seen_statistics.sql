-- Rollback of 20261121160000_users_last_seen_statistics.sql: drops the expression statistics.
-- mark-inactive-users then estimates its batch at a third of public.users again and reads the
-- table sequentially for each batch (see the migration).
drop statistics if exists public.users_last_seen_stats;
