-- Rollback of 20261121100000_private_schema.sql: removes the private schema and its helper.
drop function if exists private.set_updated_at();
drop schema if exists private;
