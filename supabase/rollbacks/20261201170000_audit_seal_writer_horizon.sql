-- Rollback of 20261201170000_audit_seal_writer_horizon.sql: restores the sealer of migration
-- 20261121130100 (the xid horizon) and drops audit.seal_state.pending_writers. A pending horizon
-- of the writer rule is dropped (nothing is sealed by dropping it; the next run takes a new one).
-- Beware: the restored sealer is the one that can skip an entry in flight (issue 11).

update audit.seal_state set pending_hi = null, pending_xmax = null;
alter table audit.seal_state drop column pending_writers;
comment on table audit.seal_state is
  'State of audit.seal(): every id <= sealed_through is sealed or was never committed; last_id/last_hash is the chain head; pending_* is the next horizon, final once every transaction older than pending_xmax has ended.';
comment on column audit.seal_state.pending_xmax is 'First unassigned transaction id when the horizon was taken (appenders take their xid before their id).';

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
begin
  -- The horizon argument needs a fresh snapshot per statement.
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

    if state.pending_xmax is not null then
      -- Final when no transaction older than the horizon is still running (ours excepted: what
      -- it appended is visible to us and commits or rolls back together with the seal).
      select not exists (
               select 1 from pg_catalog.pg_snapshot_xip(pg_catalog.pg_current_snapshot()) as running(xid)
                where running.xid < state.pending_xmax)
        into is_final
        from audit.seal_state;

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
        state.pending_xmax := null;
      end if;
    end if;

    exit when state.sealed_through >= target;  -- everything handed out before the call is final

    if state.pending_xmax is null then
      -- A new horizon: the identity's last value first, then (next statement, newer snapshot) xmax.
      select s.last_value, s.is_called into hi, hi_called from audit.log_id_seq s;
      if not hi_called or hi <= state.sealed_through then
        exit;  -- nothing handed out beyond what is sealed
      end if;
      state.pending_hi := hi;
      select pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot()) into state.pending_xmax
        from audit.seal_state;
      continue;  -- often final at once (no older writer in flight)
    end if;

    exit when clock_timestamp() >= deadline or rounds >= 1000 or sealed >= max_entries;
    perform pg_catalog.pg_sleep(0.02);
  end loop;

  update audit.seal_state
     set sealed_through = state.sealed_through,
         last_id = state.last_id,
         last_hash = state.last_hash,
         pending_hi = state.pending_hi,
         pending_xmax = state.pending_xmax,
         sealed_at = case when sealed > 0 then now() else sealed_at end;
  return sealed;
end;
$$;
comment on function audit.seal(interval, integer) is
  'Links committed entries into the hash chain in id order, up to the horizon no running transaction can still fill; waits up to max_wait for in-flight appenders. Returns the number of entries sealed. Run every minute by pg_cron and by verify()/head().';
