/**
 * SQL for reading and verifying the audit log. Runs as the staff member (role authenticated):
 * row-level security on audit.log lets staff read; audit.verify() checks staff itself. Every read
 * is itself a staff action and is appended to the log in the same transaction, which the route opens
 * (withUser; verification with VERIFY_CONTEXT).
 */
import type { JsonObject, RequestContext, Tx } from "../../_shared/db.ts";

export interface AuditFilter {
  actor?: string;
  actorKind?: string;
  /** Exact action. */
  action?: string;
  /** Action prefix ending with a dot, e.g. `dsar.`. */
  actionPrefix?: string;
  targetSchema?: string;
  targetTable?: string;
  targetId?: string;
  requestId?: string;
  /** Bounds as validated ISO 8601 text, cast in SQL (see pagination.ts). */
  from?: string;
  to?: string;
}

export interface AuditPage {
  filter: AuditFilter;
  limit: number;
  /**
   * Keyset position: (occurred_at, id) of the last entry of the previous page, as text validated
   * by pagination.ts, cast in SQL at full precision (never through a JS Date, which keeps
   * milliseconds: entries of one transaction share a timestamp to the microsecond).
   */
  after?: { occurredAt: string; id: string };
}

/** An entry as GET /audit shows it (schemas.ts: `AuditEntry`); timestamps as the client receives them. */
export interface AuditEntryRow {
  id: string;
  occurred_at: string;
  actor: string;
  actor_kind: string;
  db_role: string;
  action: string;
  target_schema: string | null;
  target_table: string | null;
  target_id: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  hash: string | null;
}

/** The filters as they are recorded in the audit.searched entry: ids and names, no free text. */
function searchDetails(page: AuditPage): JsonObject {
  const { filter } = page;
  const details: Record<string, string | number | boolean> = {
    limit: page.limit,
    next_page: page.after !== undefined,
  };
  const recorded: [string, string | undefined][] = [
    ["actor", filter.actor],
    ["actor_kind", filter.actorKind],
    ["action", filter.action ?? (filter.actionPrefix ? `${filter.actionPrefix}*` : undefined)],
    ["target_schema", filter.targetSchema],
    ["target_table", filter.targetTable],
    ["target_id", filter.targetId],
    ["request_id", filter.requestId],
    ["from", filter.from],
    ["to", filter.to],
  ];
  for (const [name, value] of recorded) if (value !== undefined) details[name] = value;
  return details as JsonObject;
}

/**
 * One page of entries, newest first (occurred_at desc, id desc), `limit + 1` rows to know whether
 * more follow. Each filter matches an index whose trailing columns are the sort order.
 */
export async function listAuditEntries(tx: Tx, page: AuditPage) {
  const { filter } = page;
  const rows = tx<(AuditEntryRow & { cursor_occurred_at: string })[]>`
      select l.id::text, l.occurred_at, l.actor, l.actor_kind, l.db_role, l.action,
             l.target_schema, l.target_table, l.target_id, l.request_id, l.details,
             encode(c.hash, 'hex') as hash, to_char(l.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_occurred_at
        from audit.log l
        left join audit.chain c on c.id = l.id
       where true
         ${filter.actor !== undefined ? tx`and l.actor = ${filter.actor}` : tx``}
         ${filter.actorKind !== undefined ? tx`and l.actor_kind = ${filter.actorKind}` : tx``}
         ${filter.action !== undefined ? tx`and l.action = ${filter.action}` : tx``}
         ${
    filter.actionPrefix !== undefined
      // A range on the C-collated column: 'dsar.' <= action < 'dsar/' is exactly the prefix.
      ? tx`and l.action >= ${filter.actionPrefix} and l.action < ${filter.actionPrefix.slice(0, -1) + "/"}`
      : tx``
  }
         ${filter.targetSchema !== undefined ? tx`and l.target_schema = ${filter.targetSchema}` : tx``}
         ${
    filter.targetTable !== undefined && filter.targetId === undefined
      ? tx`and l.target_table = ${filter.targetTable}`
      : tx``
  }
         ${
    filter.targetTable !== undefined && filter.targetId !== undefined
      // A single-record entry names it in target_id, a statement-level one lists it in
      // details.ids; audit.entries_about() finds both by index (see its migration for why it
      // runs outside RLS); the scalar subquery makes it one initplan and a primary-key lookup.
      ? tx`and l.target_table = ${filter.targetTable}
             and l.id = any((select audit.entries_about(${filter.targetTable}, ${filter.targetId}))::bigint[])`
      : tx``
  }
         ${filter.requestId !== undefined ? tx`and l.request_id = ${filter.requestId}` : tx``}
         ${filter.from !== undefined ? tx`and l.occurred_at >= ${filter.from}::text::timestamptz` : tx``}
         ${filter.to !== undefined ? tx`and l.occurred_at < ${filter.to}::text::timestamptz` : tx``}
         ${
    page.after
      ? tx`and (l.occurred_at, l.id) < (${page.after.occurredAt}::text::timestamptz, ${page.after.id}::text::bigint)`
      : tx``
  }
       order by l.occurred_at desc, l.id desc
       limit ${page.limit + 1}
    `;
  const recorded = tx`
      select audit.append_staff_read('audit.searched', 'audit', 'log', null, ${
    tx.json(searchDetails(page))
  }::jsonb)
    `;
  const [entries] = await Promise.all([rows, recorded]);
  return entries;
}

export interface VerifyRow {
  ok: boolean;
  checked: string;
  first_bad_id: string | null;
  problem: string | null;
  head_id: string;
  head_hash: string;
  sealed_through: string;
  unsealed: string;
}

export interface VerifyScope {
  /** Only entries after this checkpoint id (default: from the latest archive anchor). */
  afterId?: string;
  /** The checkpoint's hash as kept outside the database. */
  hash?: string;
}

/**
 * The transaction verifyAuditChain needs: verification reads every entry in scope, a minute, not a
 * user request's few seconds.
 */
export const VERIFY_CONTEXT: RequestContext = { statementTimeoutMs: 60_000 };

/**
 * Seals what is final and re-checks the chain (audit.verify), then records the check; run it in a
 * transaction with VERIFY_CONTEXT's longer statement timeout.
 */
export async function verifyAuditChain(tx: Tx, scope: VerifyScope) {
  const [result] = await tx<VerifyRow[]>`
      select ok, checked::text, first_bad_id::text, problem, head_id::text, head_hash,
             sealed_through::text, unsealed::text
        from audit.verify(${scope.afterId ?? null}::bigint, ${scope.hash ?? null}::text)
    `;
  await tx`
      select audit.append_staff_read('audit.verified', 'audit', 'log', null, ${
    tx.json({
      ok: result.ok,
      entries_checked: Number(result.checked),
      first_bad_id: result.first_bad_id,
      head_id: result.head_id,
      after_id: scope.afterId ?? null,
    } as JsonObject)
  }::jsonb)
    `;
  return result;
}
