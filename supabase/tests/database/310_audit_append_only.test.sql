-- The audit log is append-only for everyone: UPDATE, DELETE, TRUNCATE and direct INSERT are
-- refused for authenticated (staff included), service_role, anon and the migration owner's
-- ordinary session, also under session_replication_role = replica; the same holds for the chain
-- and the anchors. audit.append() is the one way in, and derives actor, kind, role and request
-- id from the session, never from its arguments.
begin;
set search_path = public, extensions, tests;

select plan(39);

-- Fixtures (as postgres)
select tests.create_user('auditstaff', 'support') as staff \gset
select tests.create_user('audituser', 'user') as plain_user \gset
select audit.append('test.append_only', 'tests', 'fixture', 'one', '{"n": 1}') as entry \gset
select audit.seal() as sealed_now \gset

-- ---------------------------------------------------------------------------------------------
-- authenticated (staff: may read, may not change)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'staff');
select is((select count(*)::int from audit.log where id = :entry), 1, 'staff: reads the entry (RLS)');
select throws_ok(format('update audit.log set details = %L where id = %s', '{"n": 2}', :entry),
  '42501', null, 'staff: UPDATE of audit.log is refused');
select throws_ok(format('delete from audit.log where id = %s', :entry), '42501', null,
  'staff: DELETE of audit.log is refused');
select throws_ok('truncate audit.log', '42501', null, 'staff: TRUNCATE of audit.log is refused');
select throws_ok($$ insert into audit.log (occurred_at, actor, actor_kind, db_role, action)
                    values (now(), 'forged', 'staff', 'authenticated', 'forged.entry') $$,
  '42501', null, 'staff: a direct INSERT is refused (only audit.append)');
select throws_ok(format('delete from audit.chain where id = %s', :entry), '42501', null,
  'staff: DELETE of audit.chain is refused');
select throws_ok('update audit.seal_state set sealed_through = 0', '42501', null,
  'staff: the sealer state cannot be touched');

select tests.authenticate_as(:'plain_user');
select is((select count(*)::int from audit.log), 0, 'user: sees no audit entry at all');
select throws_ok(format('update audit.log set details = %L where id = %s', '{"n": 2}', :entry),
  '42501', null, 'user: UPDATE of audit.log is refused');
select throws_ok(format('delete from audit.log where id = %s', :entry), '42501', null,
  'user: DELETE of audit.log is refused');

-- ---------------------------------------------------------------------------------------------
-- service_role (bypasses RLS, yet holds no privilege here)
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select throws_ok(format('update audit.log set details = %L where id = %s', '{"n": 2}', :entry),
  '42501', null, 'service_role: UPDATE of audit.log is refused');
select throws_ok(format('delete from audit.log where id = %s', :entry), '42501', null,
  'service_role: DELETE of audit.log is refused');
select throws_ok('truncate audit.log', '42501', null, 'service_role: TRUNCATE of audit.log is refused');
select throws_ok($$ insert into audit.log (occurred_at, actor, actor_kind, db_role, action)
                    values (now(), 'forged', 'service', 'service_role', 'forged.entry') $$,
  '42501', null, 'service_role: a direct INSERT is refused');
select throws_ok('truncate audit.chain', '42501', null, 'service_role: TRUNCATE of audit.chain is refused');

-- ---------------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok(format('delete from audit.log where id = %s', :entry), '42501', null,
  'anon: DELETE of audit.log is refused');
select throws_ok($$ select audit.append('forged.entry') $$, '42501', null, 'anon: cannot append');

-- ---------------------------------------------------------------------------------------------
-- The migration owner's ordinary session (postgres, superuser): the triggers refuse
-- ---------------------------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok(format('update audit.log set details = %L where id = %s', '{"n": 2}', :entry),
  '42501', 'audit.log is append-only: UPDATE is refused', 'owner: UPDATE of audit.log is refused');
select throws_ok(format('delete from audit.log where id = %s', :entry),
  '42501', 'audit.log is append-only: DELETE is refused', 'owner: DELETE of audit.log is refused');
select throws_ok('delete from audit.log where false',
  '42501', 'audit.log is append-only: DELETE is refused', 'owner: even a DELETE matching no row is refused (statement trigger)');
select throws_ok('truncate audit.log',
  '42501', 'audit.log is append-only: TRUNCATE is refused', 'owner: TRUNCATE of audit.log is refused');
select throws_ok($$ insert into audit.log (occurred_at, actor, actor_kind, db_role, action)
                    values (now(), 'forged', 'database', 'postgres', 'forged.entry') $$,
  '42501', 'audit.log accepts inserts only through audit.append()', 'owner: a direct INSERT is refused');
select throws_ok(format('update audit.chain set hash = hash where id = %s', :entry),
  '42501', 'audit.chain is append-only: UPDATE is refused', 'owner: UPDATE of audit.chain is refused');
select throws_ok('truncate audit.anchor',
  '42501', 'audit.anchor is append-only: TRUNCATE is refused', 'owner: TRUNCATE of audit.anchor is refused');
select throws_ok(format('insert into audit.chain (id, hash) values (%s, sha256(%L))', :entry + 1000000000, 'x'),
  '42501', 'audit.chain accepts inserts only through audit.seal()', 'owner: hashes are written only by the sealer');
-- A forged archive flag without a matching anchor opens nothing.
select set_config('audit.archive_through', :'entry', true) as forged_flag \gset
select throws_ok(format('delete from audit.log where id = %s', :entry),
  '42501', 'audit.log is append-only: DELETE is refused', 'owner: the archive flag alone does not allow a DELETE');
select set_config('audit.archive_through', '', true) as cleared_flag \gset

set local session_replication_role = replica;
select throws_ok(format('update audit.log set details = %L where id = %s', '{"n": 2}', :entry),
  '42501', 'audit.log is append-only: UPDATE is refused', 'owner, replica mode: UPDATE is still refused (ALWAYS)');
select throws_ok(format('delete from audit.log where id = %s', :entry),
  '42501', 'audit.log is append-only: DELETE is refused', 'owner, replica mode: DELETE is still refused');
select throws_ok('truncate audit.log',
  '42501', 'audit.log is append-only: TRUNCATE is refused', 'owner, replica mode: TRUNCATE is still refused');
set local session_replication_role = origin;

select is((select details from audit.log where id = :entry), '{"n": 1}'::jsonb, 'the entry is unchanged');

-- ---------------------------------------------------------------------------------------------
-- audit.append: who is recorded comes from the session
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(:'staff');
select set_config('request.id', 'req-staff-310', true) as request_id \gset
-- API roles reach the log only through audit.append_staff_read (600_data_api_side_door covers the refusals).
select audit.append_staff_read('dsar.request.viewed', 'public', 'users', :'plain_user', '{"reason_code": 3}') as staff_entry \gset
select tests.clear_authentication();
select results_eq(
  format('select actor, actor_kind, db_role, request_id from audit.log where id = %s', :staff_entry),
  format($$ values (%L, 'staff', 'authenticated', 'req-staff-310') $$, :'staff'),
  'staff append: actor = sub, kind staff, role authenticated, request id recorded'
);

select tests.authenticate_as(:'plain_user');
select throws_ok($$ select audit.append('test.user_action') $$, '42501', null,
  'user: audit.append is not executable by authenticated');
select tests.clear_authentication();

select set_config('role', 'service_role', true) as r,
       set_config('request.jwt.claims', '{"role": "service_role", "actor": "clerk-webhooks"}', true) as c \gset
select audit.append('test.service_action') as service_entry \gset
select tests.authenticate_as_service_role();
select audit.append('test.service_action') as service_anonymous \gset
select tests.clear_authentication();
select results_eq(
  format('select actor, actor_kind, db_role from audit.log where id in (%s, %s) order by id', :service_entry, :service_anonymous),
  $$ values ('clerk-webhooks', 'service', 'service_role'), ('service_role', 'service', 'service_role') $$,
  'service append: actor from the actor claim (else service_role), kind service'
);

set local application_name = 'nightly-maintenance';
select audit.append('test.database_action') as database_entry \gset
select results_eq(
  format('select actor, actor_kind, db_role from audit.log where id = %s', :database_entry),
  $$ values ('nightly-maintenance', 'database', 'postgres') $$,
  'database append: actor names the session (application_name), kind database, role postgres'
);

-- Spoofing attempts through arguments are impossible: there is no actor argument at all.
select is(
  (select count(*)::int from pg_proc p, unnest(p.proargnames) a
    where p.oid = 'audit.append(text,text,text,text,jsonb)'::regprocedure and a in ('actor', 'actor_kind', 'db_role', 'occurred_at')),
  0,
  'audit.append takes no actor, kind, role or time argument'
);

-- ---------------------------------------------------------------------------------------------
-- audit.append: what it refuses
-- ---------------------------------------------------------------------------------------------
select throws_ok($$ select audit.append('test.pii', 'public', 'users', null, '{"email": "someone@example.com"}') $$,
  '22023', 'audit details must not contain personal data (an email address was found)',
  'an email address in details is refused');
select throws_ok($$ select audit.append('test.pii', 'public', 'users', 'someone@example.com') $$,
  '22023', null, 'an email address as target id is refused');
select throws_ok($$ select audit.append('Not An Action') $$, '23514', null, 'an action must be domain.verb');
select throws_ok($$ select audit.append('test.array', null, null, null, '[1, 2]') $$, '22023', null,
  'details must be a JSON object');

select * from finish();
rollback;
