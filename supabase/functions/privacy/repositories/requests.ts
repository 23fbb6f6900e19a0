/**
 * All SQL of data-subject requests. Reads run as the caller under RLS (the subject sees their own
 * requests, staff see all, anybody else nothing); writes call the privacy functions, which decide
 * who may do what and raise P0001 with hint http:<status> when they refuse. One statement each, on
 * the transaction the route chooses (_shared/caller.ts).
 */
import type { Tx } from "../../_shared/db.ts";
import type { CreateRequestBody } from "../schemas.ts";

/** The columns of a request as the API shows them (the grace period in seconds). */
const REQUEST_COLUMNS =
  `r.id, r.kind, r.subject_user_id, r.requested_as, r.requester_user_id, r.reason, r.status,
  r.received_at, r.due_at, r.approval_required, r.approved_by, r.approved_at,
  extract(epoch from r.grace_period)::int as grace_period_seconds, r.grace_reason, r.scheduled_for,
  r.cancelled_by, r.cancelled_at, r.started_at, r.completed_at, r.attempts, r.row_counts, r.proof, r.error,
  r.overdue_at, r.clerk_delete_required, r.clerk_deleted_at, r.updated_at`;

/**
 * A row of REQUEST_COLUMNS. Timestamps are typed as the client receives them: postgres.js returns
 * Date objects, which c.json writes as ISO strings (as api/rows.ts). schemas.ts checks at compile
 * time that the response schema `DsarRequest` names exactly these columns (plus `export_url`).
 */
export interface RequestRow {
  id: string;
  kind: string;
  subject_user_id: string;
  requested_as: string;
  requester_user_id: string | null;
  reason: string | null;
  status: string;
  received_at: string;
  due_at: string;
  approval_required: boolean;
  approved_by: string | null;
  approved_at: string | null;
  grace_period_seconds: number | null;
  grace_reason: string | null;
  scheduled_for: string | null;
  cancelled_by: string | null;
  cancelled_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  attempts: number;
  row_counts: Record<string, unknown> | null;
  proof: Record<string, unknown> | null;
  error: string | null;
  overdue_at: string | null;
  clerk_delete_required: boolean;
  clerk_deleted_at: string | null;
  updated_at: string;
}

export function createRequest(tx: Tx, body: CreateRequestBody) {
  const grace = body.grace_hours === undefined ? null : `${body.grace_hours} hours`;
  return tx<RequestRow[]>`
      select ${tx.unsafe(REQUEST_COLUMNS)}
        from privacy.create_request(
          kind => ${body.kind},
          subject_user_id => ${body.subject_user_id ?? null},
          reason => ${body.reason ?? null},
          grace_period => ${grace}::interval,
          grace_reason => ${body.grace_reason ?? null}
        ) r
    `;
}

export interface ListFilter {
  subjectUserId?: string;
  kind?: string;
  status?: string;
  limit: number;
  /**
   * Keyset position: (received_at, id) of the last row of the previous page, as text validated by
   * pagination.ts, cast in SQL at full precision (never through a JS Date).
   */
  after?: { receivedAt: string; id: string };
}

/** One page of the requests the caller may see, newest first; `limit + 1` rows to know if more follow. */
export function listRequests(tx: Tx, filter: ListFilter) {
  return tx<(RequestRow & { cursor_received_at: string })[]>`
      with page as (
      select ${
    tx.unsafe(REQUEST_COLUMNS)
  }, to_char(r.received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_received_at
        from privacy.requests r
       where true
         ${filter.subjectUserId ? tx`and r.subject_user_id = ${filter.subjectUserId}` : tx``}
         ${filter.kind ? tx`and r.kind = ${filter.kind}` : tx``}
         ${filter.status ? tx`and r.status = ${filter.status}` : tx``}
         ${
    filter.after
      ? tx`and (r.received_at, r.id) < (${filter.after.receivedAt}::text::timestamptz, ${filter.after.id}::text::uuid)`
      : tx``
  }
       order by r.received_at desc, r.id desc
       limit ${filter.limit + 1}
      ), viewed as (
        -- A page showing other people's requests is a staff action: one audit entry, ids only.
        select audit.append_staff_read('dsar.requests.listed', 'privacy', 'requests', null,
                 jsonb_build_object('count', (select count(*) from page),
                                    'request_ids', (select jsonb_agg(p.id) from page p)))
         where exists (select 1 from page p where p.subject_user_id is distinct from (select auth.jwt()) ->> 'sub')
      )
      select page.* from page left join viewed on true
       order by page.received_at desc, page.id desc
    `;
}

/** The request if the caller may see it (RLS), else no row. */
export function getRequest(tx: Tx, id: string) {
  // Reading someone else's request is a staff action: audited in the same statement.
  return tx<RequestRow[]>`
        select ${tx.unsafe(REQUEST_COLUMNS)}
          from privacy.requests r
          left join lateral (
            select audit.append_staff_read('dsar.request.viewed', 'privacy', 'requests', r.id::text, '{}'::jsonb) as audit_id
             where r.subject_user_id is distinct from (select auth.jwt()) ->> 'sub'
          ) viewed on true
         where r.id = ${id}
      `;
}

export function cancelRequest(tx: Tx, id: string) {
  return tx<RequestRow[]>`select ${tx.unsafe(REQUEST_COLUMNS)} from privacy.cancel_request(${id}) r`;
}

/** Staff: a shorter grace period for an erasure not yet started, with a reason (never longer). */
export function shortenGrace(tx: Tx, id: string, graceHours: number, reason: string) {
  return tx<RequestRow[]>`
    select ${tx.unsafe(REQUEST_COLUMNS)}
      from privacy.shorten_grace(${id}, make_interval(hours => ${graceHours}), ${reason}) r`;
}

export function approveRequest(tx: Tx, id: string) {
  return tx<RequestRow[]>`select ${tx.unsafe(REQUEST_COLUMNS)} from privacy.approve_request(${id}) r`;
}

export interface ExportDocument {
  id: string;
  /** The JSON document exactly as stored (the bytes sha256 covers). */
  document: string;
  bytes: number;
  sha256: string;
  expires_at: string;
}

/** The stored export (audited as a download by the database). */
export function downloadExport(tx: Tx, id: string) {
  return tx<ExportDocument[]>`
      select e.id, e.document, e.bytes::float8 as bytes, e.sha256, e.expires_at
        from privacy.export_download(${id}) e
    `;
}
