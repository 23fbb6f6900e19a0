-- Rollback of 20261201100300_realtime_rls_checked_events_only: the publication streams every
-- kind of change again (Supabase's default), DELETE events unchecked by RLS included.
alter publication supabase_realtime set (publish = 'insert, update, delete, truncate');
