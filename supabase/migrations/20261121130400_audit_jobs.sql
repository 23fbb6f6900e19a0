-- Purpose: the audit log's scheduled jobs (pg_cron, Supabase's way: the extension is preloaded;
-- it is created here when no earlier migration did).
--   audit-seal        every minute: audit.seal() links newly committed entries into the chain.
--   audit-checkpoint  daily 00:05 UTC: audit.checkpoint() seals, verifies and writes the chain
--                     head (id, sha256) as a JSON line to the Postgres log, outside the database.
-- cron.schedule() upserts by job name, so re-applying keeps one job each.
-- Objects: extension pg_cron (if absent; marked by its comment so the rollback drops it only
-- when this migration created it); cron jobs audit-seal, audit-checkpoint.
-- Destructive: nothing.

do $$
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    -- Supabase's form: the extension's objects live in its own `cron` schema, none in public.
    create extension pg_cron with schema pg_catalog;
    comment on extension pg_cron is
      'Job scheduler for PostgreSQL (created by migration 20261121130400_audit_jobs).';
  end if;
end
$$;

select cron.schedule('audit-seal', '* * * * *', $$select audit.seal()$$);
select cron.schedule('audit-checkpoint', '5 0 * * *', $$select audit.checkpoint()$$);
