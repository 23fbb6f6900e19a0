-- Tamper evidence: the sealer links committed entries into the sha256 chain in id order and skips
-- ids of rolled-back transactions for good; verify() passes on the real chain and, after each kind
-- of tampering by a superuser with the append-only triggers disabled, reports the first entry that
-- does not match; head() and checkpoint() give the head; archive() removes an exported prefix and
-- verification of the rest still passes from the anchor; only staff and automation may verify.
--
-- The fixtures below are COMMITTED (sealing needs entries committed by other transactions); they
-- are ordinary, valid entries. Every tampering and the archive happen inside the test transaction
-- and are rolled back, so the shared chain stays valid for everyone.
\set QUIET on
select audit.append('test.chain_fixture', 'tests', 'chain', 'first', '{"n": 1}') as fx1 \gset
begin;
select audit.append('test.chain_gap', 'tests', 'chain', 'rolled-back') as gap_id \gset
rollback;
select audit.append('test.chain_fixture', 'tests', 'chain', 'second', '{"n": 2}') as fx2 \gset
select audit.append('test.chain_fixture', 'tests', 'chain', 'third', '{"n": 3}') as fx3 \gset
-- Waits (at most 30 s) for appenders older than the fixtures that are still in flight.
select audit.seal(interval '30 seconds') as sealed_now \gset

begin;
set search_path = public, extensions, tests;

select plan(37);

select tests.create_user('chainstaff', 'support') as staff \gset
select tests.create_user('chainuser', 'user') as plain_user \gset
-- Incremental verification from the last sealed entry before the fixtures keeps the many checks
-- below fast however long the shared log is; the full chain is verified once.
select coalesce(max(id), 0) as base from audit.chain where id < :fx1 \gset
select encode(hash, 'hex') as base_hash from audit.chain where id = :base \gset

-- ---------------------------------------------------------------------------------------------
-- Sealing
-- ---------------------------------------------------------------------------------------------
select ok((select sealed_through >= :fx3 from audit.seal_state), 'the sealer reached the fixtures');
select is((select count(*)::int from audit.chain where id in (:fx1, :fx2, :fx3)), 3, 'the committed fixtures are sealed');
select is((select count(*)::int from audit.chain where id = :gap_id), 0,
  'the id of the rolled-back append is skipped, not waited for');
select is(
  (select c.hash from audit.chain c where c.id = :fx2),
  (select sha256((select p.hash from audit.chain p where p.id < :fx2 order by p.id desc limit 1) || v.content)
     from audit.log_canonical v where v.id = :fx2),
  'an entry''s hash is sha256(previous hash || canonical entry)'
);
select is(
  (select convert_from(v.content, 'UTF8')::jsonb from audit.log_canonical v where v.id = :fx2) -> 0,
  to_jsonb(:fx2::bigint),
  'the canonical content is a JSON array starting with the entry id'
);
select is(
  (select v.content from audit.log_canonical v where v.id = :fx2),
  (select convert_to(jsonb_build_array(l.id, l.occurred_at at time zone 'UTC', l.actor, l.actor_kind, l.db_role,
            l.action, l.target_schema, l.target_table, l.target_id, l.request_id, l.details)::text, 'UTF8')
     from audit.log l where l.id = :fx2),
  'the canonical content covers every column, time in UTC'
);
set local timezone = 'America/New_York';
select is(
  (select c.hash from audit.chain c where c.id = :fx2),
  (select sha256((select p.hash from audit.chain p where p.id < :fx2 order by p.id desc limit 1) || v.content)
     from audit.log_canonical v where v.id = :fx2),
  'the hash does not depend on the session time zone'
);
set local timezone = 'UTC';

-- ---------------------------------------------------------------------------------------------
-- The real chain verifies; head and checkpoint
-- ---------------------------------------------------------------------------------------------
select results_eq(
  $$ select ok, first_bad_id, problem from audit.verify() $$,
  $$ values (true, null::bigint, null::text) $$,
  'verify(): the chain is intact'
);
select id as head_id, hash as head_hash from audit.head() \gset
select results_eq(
  $$ select c.id, encode(c.hash, 'hex') from audit.chain c order by c.id desc limit 1 $$,
  format($$ values (%s::bigint, %L) $$, :head_id, :'head_hash'),
  'head(): the id and hash of the newest sealed entry'
);
select audit.checkpoint() as checkpoint_line \gset
select results_eq(
  format($$ select (%L::jsonb ->> 'ok')::boolean, (%L::jsonb ->> 'head_id')::bigint $$, :'checkpoint_line', :'checkpoint_line'),
  $$ select true, last_id from audit.seal_state $$,
  'checkpoint(): verifies and reports the head id/hash (also written to the server log)'
);
select results_eq(
  format($$ select ok, checked > 0 from audit.verify(%s, %L) $$, :base, :'base_hash'),
  $$ values (true, true) $$,
  'verify(after_id, hash): incremental verification from a checkpoint'
);
select results_eq(
  format($$ select ok, first_bad_id, problem like 'checkpoint mismatch%%' from audit.verify(%s, %L) $$, :base, repeat('ab', 32)),
  format($$ values (false, %s::bigint, true) $$, :base),
  'verify(after_id, hash): a checkpoint hash the chain does not hold is reported'
);

-- ---------------------------------------------------------------------------------------------
-- Tampering as superuser, append-only triggers disabled (each case rolled back)
-- ---------------------------------------------------------------------------------------------
select (select min(c.id) from audit.chain c where c.id > :fx2) as after_fx2 \gset

-- 1. An entry altered in place.
savepoint tamper;
alter table audit.log disable trigger all;
update audit.log set details = '{"n": 20}' where id = :fx2;
select tests.verify_fails_at(:base, :fx2, 'altered entry: verify() names it');
select matches((select problem from audit.verify(:base)), '^hash mismatch', 'altered entry: reported as a hash mismatch');
rollback to savepoint tamper;

-- 2. An entry's actor rewritten (who did it).
savepoint tamper;
alter table audit.log disable trigger all;
update audit.log set actor = 'someone_else' where id = :fx1;
select tests.verify_fails_at(:base, :fx1, 'rewritten actor: verify() names the entry');
rollback to savepoint tamper;

-- 3. An entry deleted (its hash stays in the chain).
savepoint tamper;
alter table audit.log disable trigger all;
delete from audit.log where id = :fx2;
select tests.verify_fails_at(:base, :fx2, 'deleted entry: verify() names it');
select matches((select problem from audit.verify(:base)), '^entry removed', 'deleted entry: reported as removed');
rollback to savepoint tamper;

-- 4. An entry deleted together with its hash: the next link breaks.
savepoint tamper;
alter table audit.log disable trigger all;
alter table audit.chain disable trigger all;
delete from audit.log where id = :fx2;
delete from audit.chain where id = :fx2;
select tests.verify_fails_at(:base, :after_fx2, 'entry and hash deleted: verify() names the next sealed entry, whose link no longer matches');
rollback to savepoint tamper;

-- 5. An entry altered and its hash recomputed: the next link breaks.
savepoint tamper;
alter table audit.log disable trigger all;
alter table audit.chain disable trigger all;
update audit.log set details = '{"n": 200}' where id = :fx2;
update audit.chain c set hash = sha256(
    (select p.hash from audit.chain p where p.id < :fx2 order by p.id desc limit 1)
    || (select v.content from audit.log_canonical v where v.id = :fx2))
 where c.id = :fx2;
select tests.verify_fails_at(:base, :after_fx2, 'entry altered and rehashed: verify() names the next sealed entry');
rollback to savepoint tamper;

-- 6. The newest sealed entries removed with their hashes (no link is left broken).
savepoint tamper;
alter table audit.log disable trigger all;
alter table audit.chain disable trigger all;
select last_id as sealed_head from audit.seal_state \gset
delete from audit.log where id >= :fx3 and id <= :sealed_head;
delete from audit.chain where id >= :fx3;
select ok(
  (select not ok and first_bad_id >= :fx3 from audit.verify(:base)),
  'tail removed: verify() fails at or after the first removed entry (sealer state and checkpoints keep the head)'
);
rollback to savepoint tamper;

-- 7. An entry slipped in below the sealed horizon, out of band (into the rolled-back id).
savepoint tamper;
alter table audit.log disable trigger all;
insert into audit.log (id, occurred_at, actor, actor_kind, db_role, action)
overriding system value values (:gap_id, now(), 'forger', 'staff', 'authenticated', 'forged.entry');
select tests.verify_fails_at(:base, :gap_id, 'entry inserted out of band: verify() names it');
select matches((select problem from audit.verify(:base)), '^entry missing from the chain', 'out-of-band entry: not in the chain');
rollback to savepoint tamper;

select results_eq(format('select ok from audit.verify(%s)', :base), $$ values (true) $$,
  'after the rollbacks the chain verifies again');

-- ---------------------------------------------------------------------------------------------
-- Retention: archive a prefix, verification of what remains still passes
-- ---------------------------------------------------------------------------------------------
savepoint archive;
select encode(hash, 'hex') as fx2_hash from audit.chain where id = :fx2 \gset
select throws_ok(format($$ select audit.archive(%s, %L) $$, :fx2, repeat('0', 64)), '22023', null,
  'archive refuses when the export''s hash does not match the chain');
select ok(
  (select through_id >= :fx2 and entries > 0 from audit.archive_cutoff(now() + interval '1 day')),
  'archive_cutoff(): the sealed prefix before the cutoff, with its hash'
);
select ok(audit.archive(:fx2, :'fx2_hash') > 0, 'archive(): the prefix through the second fixture is removed');
select is((select count(*)::int from audit.log where id <= :fx2), 0, 'no entry at or below the anchor remains');
select is((select count(*)::int from audit.chain where id <= :fx2), 0, 'no hash at or below the anchor remains');
select is((select count(*)::int from audit.log where id = :fx3), 1, 'later entries remain');
select results_eq(
  $$ select ok, first_bad_id, problem, anchor_id is not null from audit.verify() $$,
  $$ values (true, null::bigint, null::text, true) $$,
  'verify() passes on what remains, starting from the anchor'
);
select is(
  (select (details ->> 'through_id')::bigint from audit.log where action = 'audit.archived' order by id desc limit 1),
  :fx2::bigint,
  'the archive itself is an audit entry'
);
select throws_ok(format($$ select audit.archive(%s, %L) $$, :fx2, :'fx2_hash'), '22023', null,
  'the same prefix cannot be archived twice');
select throws_ok('delete from audit.anchor', '42501', null, 'anchors are append-only');
rollback to savepoint archive;

-- ---------------------------------------------------------------------------------------------
-- Who may verify
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'plain_user');
select throws_ok('select * from audit.verify()', '42501', null, 'a plain user cannot verify');
select throws_ok('select * from audit.head()', '42501', null, 'a plain user cannot read the head');
select tests.authenticate_as(:'staff');
select results_eq(format('select ok from audit.verify(%s)', :base), 'values (true)', 'staff can verify');
select tests.authenticate_as_service_role();
select isnt((select id from audit.head()), null, 'automation (service role) can read the head');
select tests.clear_authentication();

select * from finish();
rollback;
