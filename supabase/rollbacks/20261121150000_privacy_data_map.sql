-- Rollback of 20261121150000_privacy_data_map.sql: drops the data map and the privacy schema
-- (empty once the later privacy migrations are rolled back).
drop index if exists audit.anchor_archived_by_idx;
drop function if exists privacy.data_map_problems();
drop table if exists privacy.data_map_columns;
drop table if exists privacy.data_map;
drop schema if exists privacy;
