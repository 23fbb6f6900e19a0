-- Rollback of 20261121130100_audit_seal_verify.sql. Drops the sealer, verification and archive
-- functions; the chain, anchors and sealer state (tables of 20261121130000) stay as they are.
drop function if exists audit.archive(bigint, text);
drop function if exists audit.archive_cutoff(timestamptz);
drop function if exists audit.checkpoint();
drop function if exists audit.head();
drop function if exists audit.verify(bigint, text);
drop function if exists audit.require_reviewer();
drop function if exists audit.seal(interval, integer);
drop view if exists audit.log_canonical;
