-- Purpose: storage of data-subject requests. privacy.requests (one row per export or erasure
-- request: who asked in which capacity, why, its status, the legal deadline due_at = received_at
-- + one calendar month in UTC, approval, grace period, per-table counts, proof of completion),
-- privacy.exports (the export document, kept until expires_at), privacy.rate_limits (fixed-window
-- counters per actor and action, so limits hold across Edge Function isolates). Their settings
-- (retention, grace period, attempts, rate limits) are rows of ops.settings. Each table
-- registers itself in the data map.
-- Reads: requests are visible to their subject and to staff (one select policy); exports and
-- rate limits to nobody directly (privacy functions, migration 20261121150200). No API role
-- writes any of them directly.
-- Objects: tables privacy.requests, privacy.exports, privacy.rate_limits (+ RLS, grants, indexes,
-- trigger); ops.settings rows dsar_*; privacy.data_map rows for the three tables.
-- Destructive: nothing.

create table privacy.requests (
  id uuid primary key default gen_random_uuid(),
  kind text not null constraint requests_kind_known check (kind in ('export', 'erasure')),
  subject_user_id text not null
    constraint requests_subject_user_id_is_clerk_id check (subject_user_id ~ '^user_[A-Za-z0-9]{1,64}$'),
  requested_as text not null
    constraint requests_requested_as_known check (requested_as in ('subject', 'support', 'admin', 'clerk')),
  requester_user_id text
    constraint requests_requester_user_id_is_clerk_id check (requester_user_id ~ '^user_[A-Za-z0-9]{1,64}$'),
  reason text constraint requests_reason_length check (char_length(reason) between 1 and 500),
  status text not null
    constraint requests_status_known
      check (status in ('received', 'scheduled', 'in_progress', 'completed', 'failed', 'cancelled')),
  received_at timestamptz not null default now(),
  -- One calendar month in UTC: 31 Jan -> 28/29 Feb (timestamp + interval clamps to the month's end).
  due_at timestamptz not null generated always as (((received_at at time zone 'UTC') + interval '1 month') at time zone 'UTC') stored,
  approval_required boolean not null default false,
  approved_by text constraint requests_approved_by_is_clerk_id check (approved_by ~ '^user_[A-Za-z0-9]{1,64}$'),
  approved_at timestamptz,
  grace_period interval constraint requests_grace_period_nonnegative check (grace_period >= interval '0'),
  grace_reason text constraint requests_grace_reason_length check (char_length(grace_reason) between 1 and 500),
  scheduled_for timestamptz,
  cancelled_by text constraint requests_cancelled_by_is_clerk_id check (cancelled_by ~ '^user_[A-Za-z0-9]{1,64}$'),
  cancelled_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz,
  attempts integer not null default 0 constraint requests_attempts_nonnegative check (attempts >= 0),
  row_counts jsonb constraint requests_row_counts_object check (jsonb_typeof(row_counts) = 'object'),
  proof jsonb constraint requests_proof_object check (jsonb_typeof(proof) = 'object'),
  error text constraint requests_error_length check (char_length(error) <= 500),
  overdue_at timestamptz,
  clerk_delete_required boolean not null default false,
  clerk_deleted_at timestamptz,
  clerk_error text constraint requests_clerk_error_length check (char_length(clerk_error) <= 200),
  updated_at timestamptz not null default now(),
  -- Target of privacy.exports' composite foreign key: an export's subject cannot drift.
  constraint requests_id_subject_user_id_key unique (id, subject_user_id),
  constraint requests_erasure_has_grace check (kind = 'export' or grace_period is not null),
  constraint requests_approval_only_for_erasure check (kind = 'erasure' or not approval_required),
  constraint requests_approved_together check ((approved_by is null) = (approved_at is null)),
  constraint requests_cancelled_together check ((status = 'cancelled') = (cancelled_at is not null)),
  constraint requests_completed_has_time check ((status = 'completed') = (completed_at is not null)),
  constraint requests_scheduled_has_time check (status <> 'scheduled' or scheduled_for is not null),
  constraint requests_staff_give_reason check (requested_as not in ('support', 'admin') or reason is not null),
  constraint requests_clerk_has_no_requester check ((requested_as = 'clerk') = (requester_user_id is null))
);

comment on table privacy.requests is
  'Data-subject requests (export | erasure). Visible to the subject and staff; written only by privacy functions. Kept after completion as proof of compliance.';
comment on column privacy.requests.subject_user_id is 'Clerk id of the person whose data is exported or erased. No foreign key: the request outlives the user.';
comment on column privacy.requests.requested_as is 'Capacity of the requester: subject (the person), support, admin (staff), clerk (Clerk''s user.deleted webhook).';
comment on column privacy.requests.requester_user_id is 'Clerk id of the person who made the request (null for clerk).';
comment on column privacy.requests.reason is 'Reason or ticket reference (required for staff). No personal data: a ticket id, not a story.';
comment on column privacy.requests.status is
  'received (erasure awaiting approval, or export being built) -> scheduled (erasure waiting for scheduled_for) -> in_progress -> completed | failed | cancelled. A failed erasure is retried by the job while attempts < dsar_erasure_max_attempts.';
comment on column privacy.requests.due_at is 'Legal deadline: received_at + one calendar month, computed in UTC (31 Jan -> 28/29 Feb).';
comment on column privacy.requests.approval_required is 'True for erasures requested by support: an admin other than the requester must approve.';
comment on column privacy.requests.grace_period is 'Erasure: time between receipt and execution, during which it can be cancelled (ops.settings dsar_erasure_grace unless staff shortened it).';
comment on column privacy.requests.grace_reason is 'Why staff shortened the grace period.';
comment on column privacy.requests.scheduled_for is 'Erasure: earliest execution time (received_at + grace_period, not before approval).';
comment on column privacy.requests.attempts is 'Erasure executions attempted (failures included).';
comment on column privacy.requests.row_counts is 'Per mapped table: rows exported, or rows erased and the action applied.';
comment on column privacy.requests.proof is 'Erasure: verification after the erasure (rows remaining per mapped table, all 0; retained tables and their legal basis; verified_at; sha256 of the canonical counts).';
comment on column privacy.requests.error is 'Failure code (SQLSTATE, table, constraint), never a message that could carry personal data.';
comment on column privacy.requests.overdue_at is 'Set by the flag-overdue-dsars job when due_at passed before completion.';
comment on column privacy.requests.clerk_delete_required is 'Erasure: the Clerk user must still be deleted through Clerk''s Backend API (false when Clerk reported the deletion).';
comment on column privacy.requests.clerk_deleted_at is 'When Clerk confirmed the deletion of the user (200, or 404 for already gone).';
comment on column privacy.requests.clerk_error is 'Last failure of the Clerk deletion (HTTP status), retried by the next run.';

-- Listing: a subject's requests, and everybody's for staff, newest first (keyset on received_at, id).
create index requests_subject_user_id_received_at_idx on privacy.requests (subject_user_id, received_at desc, id desc);
create index requests_received_at_idx on privacy.requests (received_at desc, id desc);
-- The jobs: due erasures, open requests by deadline, Clerk deletions still to do.
create index requests_due_erasures_idx on privacy.requests (scheduled_for)
  where kind = 'erasure' and status in ('scheduled', 'failed');
create index requests_open_due_at_idx on privacy.requests (due_at)
  where status not in ('completed', 'cancelled') and overdue_at is null;
create index requests_clerk_pending_idx on privacy.requests (completed_at)
  where clerk_delete_required and clerk_deleted_at is null and status = 'completed';
-- At most one open erasure per subject.
create unique index requests_one_open_erasure_idx on privacy.requests (subject_user_id)
  where kind = 'erasure' and status in ('received', 'scheduled', 'in_progress', 'failed');

create trigger requests_set_updated_at
  before update on privacy.requests
  for each row execute function private.set_updated_at();

alter table privacy.requests enable row level security;
create policy requests_select_authenticated on privacy.requests
  for select to authenticated
  using (subject_user_id = ((select auth.jwt()) ->> 'sub') or (select private.is_staff()));
revoke all on table privacy.requests from public, anon, authenticated, service_role;
grant select on table privacy.requests to authenticated, service_role;

create table privacy.exports (
  request_id uuid primary key,
  subject_user_id text not null,
  -- json, not jsonb: built as text by json_agg and served as stored, byte for byte (sha256).
  document json not null constraint exports_document_object check (json_typeof(document) = 'object'),
  bytes bigint not null constraint exports_bytes_nonnegative check (bytes >= 0),
  sha256 text not null constraint exports_sha256_hex check (sha256 ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  last_downloaded_at timestamptz,
  downloads integer not null default 0 constraint exports_downloads_nonnegative check (downloads >= 0),
  constraint exports_request_fkey foreign key (request_id, subject_user_id)
    references privacy.requests (id, subject_user_id) on delete cascade,
  constraint exports_expires_after_creation check (expires_at > created_at)
);

comment on table privacy.exports is
  'Export documents (one JSON document per completed export request), downloadable until expires_at, then purged by the purge-dsar-exports job.';
comment on column privacy.exports.document is 'Every mapped row of the subject, per table (privacy.build_export).';
comment on column privacy.exports.bytes is 'Size of the document as served (UTF-8 JSON text).';
comment on column privacy.exports.sha256 is 'sha256 (hex) of the document as served, for the recipient to check.';
comment on column privacy.exports.expires_at is 'created_at + ops.settings dsar_export_retention (7 days by default).';

-- Documents run to megabytes: lz4 compresses them several times faster than the default pglz.
do $$
begin
  alter table privacy.exports alter column document set compression lz4;
exception when feature_not_supported then
  raise notice 'lz4 is not available; privacy.exports.document keeps the default compression';
end
$$;

create index exports_subject_user_id_idx on privacy.exports (subject_user_id);
create index exports_expires_at_idx on privacy.exports (expires_at);

alter table privacy.exports enable row level security;
revoke all on table privacy.exports from public, anon, authenticated, service_role;

create table privacy.rate_limits (
  actor text not null constraint rate_limits_actor_length check (char_length(actor) between 1 and 200),
  action text not null constraint rate_limits_action_shape check (action ~ '^[a-z][a-z_]{0,30}$'),
  window_start timestamptz not null,
  hits integer not null default 1 constraint rate_limits_hits_positive check (hits > 0),
  constraint rate_limits_pkey primary key (actor, action, window_start)
);

comment on table privacy.rate_limits is
  'Fixed-window request counters of the privacy function per actor and action (limits in ops.settings dsar_rate_*). In the database so every isolate counts the same. Old windows are purged by purge-dsar-exports.';
comment on column privacy.rate_limits.actor is 'Clerk user id of the caller.';
comment on column privacy.rate_limits.window_start is 'Start of the fixed window (date_bin of dsar_rate_window).';

create index rate_limits_window_start_idx on privacy.rate_limits (window_start);

alter table privacy.rate_limits enable row level security;
revoke all on table privacy.rate_limits from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Settings
-- ---------------------------------------------------------------------------------------------
insert into ops.settings (key, value, value_type, minimum, description) values
  ('dsar_export_retention', '7 days', 'interval', '1 hour',
   'DSAR export documents can be downloaded this long after they were built; the purge-dsar-exports job then deletes them.'),
  ('dsar_erasure_grace', '7 days', 'interval', '1 hour',
   'Default grace period between an erasure request and its execution (cancellable meanwhile). Staff may shorten it per request, with a reason.'),
  ('dsar_erasure_batch_size', '20', 'integer', '1',
   'Erasures one run of run-due-erasures executes at most (each in its own subtransaction).'),
  ('dsar_erasure_max_attempts', '3', 'integer', '1',
   'A failed erasure is retried by run-due-erasures until it has been attempted this often; then staff must look (docs/PRIVACY.md).'),
  ('dsar_rate_window', '1 hour', 'interval', '1 minute',
   'Length of the fixed rate-limit window of the privacy function.'),
  ('dsar_rate_create', '10', 'integer', '1',
   'Requests (export or erasure) one actor may create per dsar_rate_window.'),
  ('dsar_rate_change', '60', 'integer', '1',
   'Cancellations, approvals and erasure runs one actor may make per dsar_rate_window.'),
  ('dsar_rate_read', '600', 'integer', '1',
   'Request reads (list, get, data map) one actor may make per dsar_rate_window.'),
  ('dsar_rate_download', '30', 'integer', '1',
   'Export downloads one actor may make per dsar_rate_window.');

-- ---------------------------------------------------------------------------------------------
-- The data map of these tables
-- ---------------------------------------------------------------------------------------------
insert into privacy.data_map (table_schema, table_name, subject_column, erasure, cascade_from, legal_basis, erasure_order, export, description) values
  ('privacy', 'requests', 'subject_user_id', 'retain', null,
   'Legal obligation and accountability (GDPR art. 5(2), 12, 17): proof that the request was received, handled within the deadline and completed. Ids, times, counts and a ticket reference only.',
   100, true,
   'The subject''s data-subject requests (and, for staff, the requests they made or approved: requester_user_id, approved_by, cancelled_by).'),
  ('privacy', 'exports', 'subject_user_id', 'delete', null, null, 5, false,
   'Export documents of the subject. Deleted by erasure; never nested into a new export.'),
  ('privacy', 'rate_limits', 'actor', 'delete', null, null, 5, true,
   'Rate-limit counters of the subject''s own calls to the privacy function (technical; purged after two windows anyway).');

insert into privacy.data_map_columns (table_schema, table_name, column_name, classification, personal, anonymize) values
  ('privacy', 'requests', 'id', 'technical', false, false),
  ('privacy', 'requests', 'kind', 'usage', true, false),
  ('privacy', 'requests', 'subject_user_id', 'identifier', true, false),
  ('privacy', 'requests', 'requested_as', 'technical', false, false),
  ('privacy', 'requests', 'requester_user_id', 'identifier', true, false),
  ('privacy', 'requests', 'reason', 'content', true, false),
  ('privacy', 'requests', 'status', 'technical', false, false),
  ('privacy', 'requests', 'received_at', 'usage', true, false),
  ('privacy', 'requests', 'due_at', 'technical', false, false),
  ('privacy', 'requests', 'approval_required', 'technical', false, false),
  ('privacy', 'requests', 'approved_by', 'identifier', true, false),
  ('privacy', 'requests', 'approved_at', 'usage', true, false),
  ('privacy', 'requests', 'grace_period', 'technical', false, false),
  ('privacy', 'requests', 'grace_reason', 'content', true, false),
  ('privacy', 'requests', 'scheduled_for', 'technical', false, false),
  ('privacy', 'requests', 'cancelled_by', 'identifier', true, false),
  ('privacy', 'requests', 'cancelled_at', 'usage', true, false),
  ('privacy', 'requests', 'started_at', 'technical', false, false),
  ('privacy', 'requests', 'completed_at', 'technical', false, false),
  ('privacy', 'requests', 'attempts', 'technical', false, false),
  ('privacy', 'requests', 'row_counts', 'technical', false, false),
  ('privacy', 'requests', 'proof', 'technical', false, false),
  ('privacy', 'requests', 'error', 'technical', false, false),
  ('privacy', 'requests', 'overdue_at', 'technical', false, false),
  ('privacy', 'requests', 'clerk_delete_required', 'technical', false, false),
  ('privacy', 'requests', 'clerk_deleted_at', 'technical', false, false),
  ('privacy', 'requests', 'clerk_error', 'technical', false, false),
  ('privacy', 'requests', 'updated_at', 'technical', false, false),

  ('privacy', 'exports', 'request_id', 'technical', false, false),
  ('privacy', 'exports', 'subject_user_id', 'identifier', true, false),
  ('privacy', 'exports', 'document', 'content', true, false),
  ('privacy', 'exports', 'bytes', 'technical', false, false),
  ('privacy', 'exports', 'sha256', 'technical', false, false),
  ('privacy', 'exports', 'created_at', 'technical', false, false),
  ('privacy', 'exports', 'expires_at', 'technical', false, false),
  ('privacy', 'exports', 'last_downloaded_at', 'usage', true, false),
  ('privacy', 'exports', 'downloads', 'usage', true, false),

  ('privacy', 'rate_limits', 'actor', 'identifier', true, false),
  ('privacy', 'rate_limits', 'action', 'usage', true, false),
  ('privacy', 'rate_limits', 'window_start', 'usage', true, false),
  ('privacy', 'rate_limits', 'hits', 'usage', true, false);
