-- Purpose: close the hole that made the sealer skip committed entries (issue 11: "entry missing
-- from the chain" on an idle stack, for job entries written the same second as the audit-seal run).
--
-- The old horizon: read the identity's last value `hi`, then take a snapshot and keep its xmax `x`
-- as "the first unassigned xid"; final once no xid < x is in a snapshot's in-progress list. But a
-- snapshot's xmax is latestCompletedXid + 1, not the next xid: a transaction whose xid is newer
-- than every completed one is running yet neither below xmax nor in the list. On an idle database
-- the appender is exactly that transaction (it took the newest xid and nothing newer has finished),
-- so the horizon was judged final at once, the in-flight id was skipped for good, and its entry,
-- committed a moment later, sat below the sealed horizon without a hash.
--
-- The new horizon does not reason about xids at all. Every INSERT into audit.log holds a
-- RowExclusiveLock on audit.log from before its identity default draws the id (the lock is taken
-- when the statement is parsed or its cached plan is locked, the id while the row is formed) until
-- the transaction ends; only the rollback of the subtransaction that took it releases it sooner,
-- and that subtransaction's rows are then dead for good. So the sealer reads `hi`, then lists the
-- transactions (virtual xids, pg_locks) holding that lock, its own excepted; once none of them
-- holds it any more, every id <= hi is committed (visible: a transaction leaves the proc array
-- before it releases its locks) or will never appear. Subtransactions, background workers (pg_cron),
-- session_replication_role = replica, xids assigned before or after the id: none of it matters.
-- The sealing lag is now the longest concurrent transaction that wrote to audit.log, not the
-- longest transaction of the cluster. Appenders still never wait: reading pg_locks blocks nobody.
-- Design and argument: docs/AUDIT.md, "Which ids the sealer may seal".
--
-- Objects: column audit.seal_state.pending_writers (new); audit.seal_state.pending_xmax is no
-- longer used (always null; kept so the rollback restores the previous rule exactly); function
-- audit.seal(interval, integer) replaced (same signature, grants and callers).
-- Destructive: discards a pending horizon taken under the old rule (the next run takes a new one;
-- sealed_through is unchanged). Entries the old sealer already skipped stay reported by verify().

alter table audit.seal_state add column pending_writers text[];
comment on column audit.seal_state.pending_writers is
  'Virtual transaction ids (pg_locks) that held RowExclusiveLock on audit.log when the horizon was taken, the sealer''s own excepted: the horizon is final once none of them holds it any more.';
comment on column audit.seal_state.pending_xmax is
  'Not used since migration 20261201170000 (always null): the horizon waits for the writers in pending_writers instead of an xid bound.';
comment on table audit.seal_state is
  'State of audit.seal(): every id <= sealed_through is sealed or was never committed; last_id/last_hash is the chain head; pending_hi/pending_writers is the next horizon, final once none of those writers holds its lock on audit.log.';

-- A horizon of the old rule may be unsound; drop it (nothing is sealed by dropping it).
update audit.seal_state set pending_hi = null, pending_xmax = null, pending_writers = null;

create or replace function audit.seal(max_wait interval default interval '0', max_entries integer default 1000000)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  state audit.seal_state;
  deadline timestamptz := clock_timestamp() + coalesce(max_wait, interval '0');
  sealed bigint := 0;
  rounds integer := 0;
  is_final boolean;
  batch_to bigint;
  ids bigint[];
  hashes bytea[];
  prev bytea;
  entry record;
  hi bigint;
  hi_called boolean;
  target bigint;
  -- pg_locks names relations by database and oid.
  this_db oid := (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database());
  log_rel oid := 'audit.log'::pg_catalog.regclass;
begin
  -- Each statement needs a fresh snapshot: the entries it reads must include the commits of the
  -- writers it has just seen finish.
  if current_setting('transaction_isolation') <> 'read committed' then
    raise notice 'audit.seal() runs only in read committed transactions; nothing sealed';
    return 0;
  end if;

  -- One sealer at a time; appenders never touch this row.
  select * into strict state from audit.seal_state for update;
  -- Waiting (max_wait) is for the ids handed out before this call, not for later appends.
  select case when s.is_called then s.last_value else 0 end into target from audit.log_id_seq s;

  loop
    rounds := rounds + 1;

    if state.pending_hi is not null then
      -- Final when none of the horizon's writers still holds its lock on audit.log. Our own
      -- transaction excepted: what it appended is visible to us and commits or rolls back together
      -- with the seal.
      select not exists (
               select 1 from pg_catalog.pg_locks l
                where l.locktype = 'relation' and l.database = this_db and l.relation = log_rel
                  and l.mode = 'RowExclusiveLock'
                  and l.virtualtransaction = any(state.pending_writers)
                  and l.pid is distinct from pg_catalog.pg_backend_pid())
        into is_final;

      if is_final then
        -- Hash visible entries in (sealed_through, pending_hi] in id order, in batches.
        prev := state.last_hash;
        while state.sealed_through < state.pending_hi and sealed < max_entries loop
          ids := '{}';
          hashes := '{}';
          batch_to := state.pending_hi;
          for entry in
            select v.id, v.content
              from audit.log_canonical v
             where v.id > state.sealed_through and v.id <= state.pending_hi
             order by v.id
             limit least(50000, max_entries - sealed)
          loop
            prev := pg_catalog.sha256(prev || entry.content);
            ids := ids || entry.id;
            hashes := hashes || prev;
          end loop;
          if cardinality(ids) = least(50000, max_entries - sealed) then
            batch_to := ids[cardinality(ids)];  -- budget or batch full: more may follow
          end if;
          if cardinality(ids) > 0 then
            perform pg_catalog.set_config('audit.sealing', 'on', true);
            insert into audit.chain (id, hash) select * from unnest(ids, hashes);
            perform pg_catalog.set_config('audit.sealing', 'off', true);
            state.last_id := ids[cardinality(ids)];
            state.last_hash := prev;
            sealed := sealed + cardinality(ids);
          end if;
          state.sealed_through := batch_to;
        end loop;
        if state.sealed_through < state.pending_hi then
          exit;  -- budget used up; the horizon stays pending
        end if;
        state.pending_hi := null;
        state.pending_writers := null;
      end if;
    end if;

    exit when state.sealed_through >= target;  -- everything handed out before the call is final

    if state.pending_hi is null then
      -- A new horizon: the identity's last value first, THEN (next statement) the writers in
      -- flight. Any transaction that drew an id <= hi took its lock before that, so it is listed
      -- unless it has already ended.
      select s.last_value, s.is_called into hi, hi_called from audit.log_id_seq s;
      if not hi_called or hi <= state.sealed_through then
        exit;  -- nothing handed out beyond what is sealed
      end if;
      state.pending_hi := hi;
      select coalesce(array_agg(distinct l.virtualtransaction), '{}')
        into state.pending_writers
        from pg_catalog.pg_locks l
       where l.locktype = 'relation' and l.database = this_db and l.relation = log_rel
         and l.mode = 'RowExclusiveLock'
         and l.pid is distinct from pg_catalog.pg_backend_pid();
      continue;  -- usually final at once (no writer in flight)
    end if;

    exit when clock_timestamp() >= deadline or rounds >= 1000 or sealed >= max_entries;
    perform pg_catalog.pg_sleep(0.02);
  end loop;

  update audit.seal_state
     set sealed_through = state.sealed_through,
         last_id = state.last_id,
         last_hash = state.last_hash,
         pending_hi = state.pending_hi,
         pending_xmax = null,
         pending_writers = state.pending_writers,
         sealed_at = case when sealed > 0 then now() else sealed_at end;
  return sealed;
end;
$$;
comment on function audit.seal(interval, integer) is
  'Links committed entries into the hash chain in id order, up to the horizon no transaction can still fill (ids handed out before the writers then holding RowExclusiveLock on audit.log have all ended); waits up to max_wait for them. Returns the number of entries sealed. Run every minute by pg_cron and by verify()/head().';
