-- The sealer's horizon (migration 20261201170000, docs/AUDIT.md "Which ids the sealer may seal"):
-- it waits for the transactions that held RowExclusiveLock on audit.log when it read the last id,
-- never for an xid bound. Inside one session: the state records writers, not an xid; a writer's
-- lock is what the sealer looks for; the sealer's own transaction, which has appended and holds
-- that lock, does not hold its own horizon back; a final horizon is cleared. What other sessions
-- do (the newest in-flight writer, subtransactions, pg_cron workers) is tested with several
-- connections in tests/audit_test.ts and tests/audit_sealer_stress_test.ts.
begin;
set search_path = public, extensions, tests;

select plan(9);

select col_type_is('audit', 'seal_state', 'pending_writers', 'text[]',
  'seal_state.pending_writers: the virtual transaction ids the pending horizon waits for');
select ok(
  (select p.prosrc not like '%pg_snapshot_xmax%' and p.prosrc like '%pg_locks%'
     from pg_proc p where p.oid = 'audit.seal(interval, integer)'::regprocedure),
  'seal(): the horizon comes from the lock holders (pg_locks), not from a snapshot''s xmax'
);
select is((select count(*)::int from audit.seal_state where pending_xmax is not null), 0,
  'pending_xmax (the old rule) is never set');

-- This transaction becomes a writer: the append's INSERT holds RowExclusiveLock on audit.log
-- until the transaction ends.
select audit.append('test.seal_horizon_own', 'tests', 'seal', 'own') as own_id \gset
select ok(
  exists (select 1 from pg_locks l
           where l.locktype = 'relation' and l.relation = 'audit.log'::regclass
             and l.mode = 'RowExclusiveLock' and l.pid = pg_backend_pid()),
  'an append holds RowExclusiveLock on audit.log in its transaction'
);

-- Its own entry is visible to it and commits or rolls back with the seal: no waiting on itself.
select lives_ok($$ select audit.seal(interval '10 seconds') $$, 'seal() in the appending transaction');
select ok((select sealed_through >= :own_id from audit.seal_state),
  'the sealer''s own writes do not hold its horizon back');
select is((select count(*)::int from audit.chain where id = :own_id), 1, 'its own entry is sealed');
select ok(
  (select pending_hi is null and pending_writers is null from audit.seal_state),
  'a final horizon is cleared'
);
select results_eq(
  format($$ select ok from audit.verify(%s) $$,
    (select coalesce(max(c.id), 0) from audit.chain c where c.id < :own_id)),
  $$ values (true) $$,
  'the chain verifies across the entry'
);

select * from finish();
rollback;
