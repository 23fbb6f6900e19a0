-- Rollback of 20261121140400_migration_status.sql: GET /admin/migrations stops working.
drop function if exists ops.applied_migrations();
