/** SQL for a project's change history. Run as the caller, under RLS (the route opens the transaction). */
import type { Tx } from "../../_shared/db.ts";
import type { HistoryRow } from "../rows.ts";

/**
 * One page of history, newest first, keyset on id; fetches `limit + 1` events. The project row
 * is joined so that a project the caller cannot see answers "not found" (no row) rather than an
 * empty page.
 */
export function listHistory(tx: Tx, userId: string, projectId: string, limit: number, beforeId?: string) {
  // All null in the one row of a visible project without (more) history.
  return tx<{ [K in keyof HistoryRow]: HistoryRow[K] | null }[]>`
      select h.id::text, h.tab_id, h.action, h.diff, h.changed_at
      from public.projects p
      left join lateral (
        select id, tab_id, action, diff, changed_at from public.workspace_history
        where project_id = p.id and user_id = ${userId}
          ${beforeId ? tx`and id < ${beforeId}::bigint` : tx``}
        order by id desc
        limit ${limit + 1}
      ) h on true
      where p.id = ${projectId} and p.user_id = ${userId}
    `;
}
