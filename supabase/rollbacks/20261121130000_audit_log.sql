-- Rollback of 20261121130000_audit_log.sql. Destructive: drops schema audit with every audit
-- entry, the hash chain and the archive anchors. Export first (docs/RUNBOOK.md, "Audit log").
drop schema if exists audit cascade;
