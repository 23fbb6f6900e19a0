-- Rollback of 20261121150100_privacy_requests.sql. Destructive: drops every data-subject request
-- (the proof of compliance), export document and rate-limit counter, and the dsar_* settings.
-- Export the requests first if they must be kept (docs/PRIVACY.md).
delete from privacy.data_map m
 where (m.table_schema, m.table_name) in (('privacy', 'requests'), ('privacy', 'exports'), ('privacy', 'rate_limits'));
delete from ops.settings s
 where s.key in ('dsar_export_retention', 'dsar_erasure_grace', 'dsar_erasure_batch_size', 'dsar_erasure_max_attempts',
                 'dsar_rate_window', 'dsar_rate_create', 'dsar_rate_change', 'dsar_rate_read', 'dsar_rate_download');
drop table if exists privacy.rate_limits;
drop table if exists privacy.exports;
drop table if exists privacy.requests;
