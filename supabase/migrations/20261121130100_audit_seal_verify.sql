-- Purpose: tamper evidence for the audit log. Appends stay plain inserts (no chain-head lock); a
-- sealer links committed entries into a sha256 hash chain in id order, only up to a horizon below
-- which no transaction can still commit an entry. verify() re-checks the whole chain set-based and
-- reports the first entry that does not match; head() gives the id and hash to keep outside the
-- database; checkpoint() logs them (daily cron job, migration 20261121130400); archive() removes
-- an exported chain prefix and anchors verification of what remains. Design: docs/AUDIT.md.
-- Objects: view audit.log_canonical; functions audit.seal(interval, integer),
-- audit.require_reviewer(), audit.verify(bigint, text), audit.head(), audit.checkpoint(),
-- audit.archive_cutoff(timestamptz),
-- audit.archive(bigint, text).
-- Destructive: nothing.

-- The bytes an entry's hash covers: every column, as a JSON array with the time in UTC, so the
-- hash does not depend on session settings (TimeZone, DateStyle). A view rather than a function:
-- Postgres expands it into seal() and verify(), where a function with the SET search_path clause
-- the advisors require would cost a configuration save/restore per entry (3x the hashing).
-- Exports carry this text, so an archive can be re-verified anywhere with sha256 alone.
create view audit.log_canonical
with (security_invoker = true)
as
select l.id,
       pg_catalog.convert_to(pg_catalog.jsonb_build_array(
         l.id, l.occurred_at at time zone 'UTC', l.actor, l.actor_kind, l.db_role, l.action,
         l.target_schema, l.target_table, l.target_id, l.request_id, l.details
       )::text, 'UTF8') as content
  from audit.log l;
comment on view audit.log_canonical is
  'Canonical bytes of each entry for the hash chain: UTF-8 text of a JSON array of all columns (occurred_at in UTC). hash = sha256(previous hash || content).';

-- Sealing. An id is handed out (nextval) inside audit.append after the appending transaction has
-- taken its xid. So once the sealer has read the identity's last value `hi` and THEN taken a
-- snapshot whose xmax is `x`, every id <= hi belongs to a transaction with an xid < x. When no
-- transaction with an xid < x is still running, every id <= hi is final: committed (visible) or
-- never to appear (rolled back, or burnt by a failed insert). The sealer hashes the visible ones in
-- id order and skips the gaps for good. The horizon (hi, x) is stored and usually becomes final at
-- the next run; when nothing older is in flight it is final at once. Appenders never wait.
create function audit.seal(max_wait interval default interval '0', max_entries integer default 1000000)
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

-- Staff (authenticated) and automation (service_role) may verify and read the head; a plain user
-- may not. The owner (cron, operators) always may.
create function audit.require_reviewer()
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if current_setting('role') in ('anon', 'authenticated') and not private.is_staff() then
    raise exception 'only staff can read the audit chain' using errcode = 'insufficient_privilege';
  end if;
end;
$$;
comment on function audit.require_reviewer() is
  'Raises 42501 unless the caller is staff, automation or the owner.';

create function audit.verify(after_id bigint default null, expected_hash text default null)
returns table (
  ok boolean,
  checked bigint,
  first_bad_id bigint,
  problem text,
  head_id bigint,
  head_hash text,
  sealed_through bigint,
  unsealed bigint,
  anchor_id bigint
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  state audit.seal_state;
  base_id bigint := 0;
  base_hash bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  scope_from bigint;
  from_checkpoint record;
  chain_last_id bigint;
  chain_last_hash bytea;
begin
  perform audit.require_reviewer();
  perform audit.seal();

  select * into strict state from audit.seal_state;
  -- Start from the latest archive anchor (or genesis) ...
  select a.id, a.through_id, a.hash into anchor_id, base_id, base_hash
    from audit.anchor a order by a.through_id desc limit 1;
  base_id := coalesce(base_id, 0);
  base_hash := coalesce(base_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
  scope_from := base_id;
  -- ... or, incrementally, from a checkpoint (after_id, and its hash as kept outside the database).
  if verify.after_id is not null and verify.after_id > base_id then
    select c.id, c.hash into from_checkpoint
      from audit.chain c where c.id > base_id and c.id <= verify.after_id order by c.id desc limit 1;
    if from_checkpoint.id is not null then
      base_id := from_checkpoint.id;
      base_hash := from_checkpoint.hash;
    end if;
    scope_from := verify.after_id;
  end if;

  if verify.expected_hash is not null and encode(base_hash, 'hex') <> lower(verify.expected_hash) then
    first_bad_id := base_id;
    problem := 'checkpoint mismatch: the chain hash at this entry is not the one kept outside the database';
  else
    -- Every check at once (set-based); the first problem by id is the answer.
    with links as (
      select c.id, c.hash, v.id is null as entry_missing, v.content,
             coalesce(lag(c.hash) over (order by c.id), base_hash) as prev
        from audit.chain c
        left join audit.log_canonical v on v.id = c.id
       where c.id > scope_from
    ),
    problems as (
      select links.id,
             case when links.entry_missing
                  then 'entry removed: the chain holds its hash but the log has no such entry'
                  else 'hash mismatch: the entry was altered, or the entry sealed before it was removed or altered'
             end as problem
        from links
       where links.entry_missing
          or links.hash <> pg_catalog.sha256(links.prev || links.content)
      union all
      select l.id, 'entry missing from the chain: written or altered out of band below the sealed horizon'
        from audit.log l
       where l.id > scope_from and l.id <= state.sealed_through
         and not exists (select 1 from audit.chain c where c.id = l.id)
      union all
      select c.id, 'chain entry beyond the sealed horizon: chain or sealer state altered'
        from audit.chain c
       where c.id > state.sealed_through
    )
    select p.id, p.problem into first_bad_id, problem
      from problems p order by p.id limit 1;
  end if;

  select count(*) into checked from audit.chain c where c.id > scope_from;
  select c.id, c.hash into chain_last_id, chain_last_hash
    from audit.chain c where c.id > scope_from order by c.id desc limit 1;

  -- The tail: removing the newest entries together with their hashes leaves no broken link, but
  -- the sealer state still names the head (and the external checkpoints do too).
  if first_bad_id is null
     and (coalesce(chain_last_id, base_id) <> state.last_id
          or coalesce(chain_last_hash, base_hash) <> state.last_hash) then
    first_bad_id := least(coalesce(chain_last_id, base_id) + 1, state.last_id);
    problem := 'chain head does not match the sealer state: the newest sealed entries were removed';
  end if;

  ok := first_bad_id is null;
  head_id := coalesce(chain_last_id, base_id);
  head_hash := encode(coalesce(chain_last_hash, base_hash), 'hex');
  sealed_through := state.sealed_through;
  select count(*) into unsealed from audit.log l where l.id > state.sealed_through;
  return next;
end;
$$;
comment on function audit.verify(bigint, text) is
  'Seals what is final, then re-checks every link of the chain from the latest archive anchor (or genesis), or only after a checkpoint (after_id, optionally its externally kept hash): ok, or the first entry that does not match and why. Staff, automation and the owner only.';

create function audit.head()
returns table (id bigint, hash text, sealed_through bigint, sealed_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  perform audit.require_reviewer();
  perform audit.seal();
  return query
    select s.last_id, encode(s.last_hash, 'hex'), s.sealed_through, s.sealed_at
      from audit.seal_state s;
end;
$$;
comment on function audit.head() is
  'Seals what is final and returns the chain head (id, sha256 hex) to checkpoint outside the database.';

create function audit.checkpoint()
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  result record;
  line jsonb;
begin
  perform audit.seal(interval '10 seconds');
  select * into strict result from audit.verify();
  line := jsonb_build_object(
    'msg', 'audit checkpoint',
    'at', to_jsonb(now() at time zone 'UTC'),
    'head_id', result.head_id,
    'head_hash', result.head_hash,
    'sealed_through', result.sealed_through,
    'unsealed', result.unsealed,
    'entries_checked', result.checked,
    'ok', result.ok,
    'first_bad_id', result.first_bad_id,
    'problem', result.problem
  );
  -- LOG level reaches the server log (Supabase log explorer) whatever client_min_messages says.
  raise log 'audit_checkpoint %', line::text;
  if not result.ok then
    raise warning 'audit chain verification failed: %', line::text;
  end if;
  return line;
end;
$$;
comment on function audit.checkpoint() is
  'Daily cron job: seals, verifies, and writes the head id/hash as a JSON line to the Postgres log, where it is kept outside the database.';

-- ---------------------------------------------------------------------------------------------
-- Retention (docs/RUNBOOK.md, "Audit log")
-- ---------------------------------------------------------------------------------------------

-- The longest sealed chain prefix whose entries all occurred before `before`.
create function audit.archive_cutoff(before timestamptz)
returns table (through_id bigint, entries bigint, hash text, previous_anchor_id bigint)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  anchor_through bigint;
  limit_id bigint;
begin
  select coalesce(max(a.through_id), 0), max(a.id) into anchor_through, previous_anchor_id from audit.anchor a;
  select least(s.sealed_through, coalesce(
           (select min(l.id) - 1 from audit.log l where l.id > anchor_through and l.occurred_at >= before),
           s.sealed_through))
    into limit_id from audit.seal_state s;
  select c.id, encode(c.hash, 'hex') into through_id, hash
    from audit.chain c where c.id > anchor_through and c.id <= limit_id order by c.id desc limit 1;
  select count(*) into entries from audit.log l where l.id > anchor_through and l.id <= through_id;
  return next;
end;
$$;
comment on function audit.archive_cutoff(timestamptz) is
  'Archive planning: the last sealed entry of the longest prefix older than the cutoff, its hash and the entry count (export these before audit.archive()).';

-- Removes an exported prefix: checks the chain, checks that the caller's export ends with the same
-- hash, records the anchor, appends an audit.archived entry, then deletes log and chain rows at or
-- below the anchor (the only deletion the append-only triggers accept).
create function audit.archive(through_id bigint, expected_hash text)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  check_result record;
  anchor_through bigint;
  through_hash bytea;
  removed bigint;
  actor text;
begin
  select * into strict check_result from audit.verify();
  if not check_result.ok and check_result.first_bad_id <= archive.through_id then
    raise exception 'the chain does not verify up to %: entry % (%)', archive.through_id,
      check_result.first_bad_id, check_result.problem using errcode = 'data_corrupted';
  end if;

  select coalesce(max(a.through_id), 0) into anchor_through from audit.anchor a;
  select c.hash into through_hash from audit.chain c where c.id = archive.through_id;
  if through_hash is null or archive.through_id <= anchor_through then
    raise exception 'entry % is not a sealed entry after the last anchor (%)', archive.through_id, anchor_through
      using errcode = 'invalid_parameter_value';
  end if;
  if encode(through_hash, 'hex') <> lower(expected_hash) then
    raise exception 'the chain hash of entry % is not the expected one: the export does not match', archive.through_id
      using errcode = 'invalid_parameter_value';
  end if;

  select count(*) into removed from audit.log l where l.id > anchor_through and l.id <= archive.through_id;
  actor := (audit.current_actor()).actor;

  perform pg_catalog.set_config('audit.anchoring', 'on', true);
  insert into audit.anchor (through_id, hash, entries, archived_by)
  values (archive.through_id, through_hash, removed, coalesce(actor, session_user));
  perform pg_catalog.set_config('audit.anchoring', 'off', true);

  perform audit.append('audit.archived', 'audit', 'log', archive.through_id::text,
    jsonb_build_object('through_id', archive.through_id, 'hash', encode(through_hash, 'hex'),
                       'entries', removed, 'previous_anchor_through_id', anchor_through));

  perform pg_catalog.set_config('audit.archive_through', archive.through_id::text, true);
  delete from audit.chain c where c.id <= archive.through_id;
  delete from audit.log l where l.id <= archive.through_id;
  perform pg_catalog.set_config('audit.archive_through', '', true);
  return removed;
end;
$$;
comment on function audit.archive(bigint, text) is
  'Retention: after exporting entries <= through_id (hash from audit.archive_cutoff), anchors the chain at that hash and removes the prefix. Owner only.';

revoke all on table audit.log_canonical from public, anon, authenticated, service_role;
revoke all on function audit.seal(interval, integer), audit.require_reviewer(),
  audit.verify(bigint, text), audit.head(), audit.checkpoint(), audit.archive_cutoff(timestamptz),
  audit.archive(bigint, text)
  from public, anon, authenticated, service_role;
grant execute on function audit.verify(bigint, text), audit.head() to authenticated, service_role;
