-- Rollback of 20261121100000_private_schema.sql: removes the private schema and its helper.
alter default privileges for role postgres in schema private grant execute on functions to public;
drop function if exists private.set_updated_at();
drop schema if exists private;
