/**
 * GET /audit (search, keyset paginated) and GET /audit/verify[?after_id=&hash=]. Staff only
 * (see ../staff.ts). Both are staff actions and are themselves recorded (audit.searched, audit.verified).
 */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { bigintPart, decodeCursor, encodeCursor, instantPart, takePage } from "../../_shared/pagination.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { AuditEntryPage, AuditListQuery, VerifyQuery, VerifyResult } from "../schemas.ts";
import type { z } from "zod";
import { withUser } from "../../_shared/db.ts";
import { listAuditEntries, VERIFY_CONTEXT, verifyAuditChain } from "../repositories/audit.ts";
import type { AuditFilter } from "../repositories/audit.ts";

function toFilter(query: AuditListQuery): AuditFilter {
  const prefix = query.action?.endsWith(".*") ? query.action.slice(0, -1) : undefined;
  return {
    actor: query.actor,
    actorKind: query.actor_kind,
    action: prefix === undefined ? query.action : undefined,
    actionPrefix: prefix,
    targetSchema: query.target_schema,
    targetTable: query.target_table,
    targetId: query.target_id,
    requestId: query.request_id,
    from: query.from,
    to: query.to,
  };
}

export const auditRoutes = new Hono<SessionEnv>()
  .get(
    "/",
    documented({
      summary: "Search the audit log, newest first (keyset pagination; the search is itself audited)",
      responses: { 200: { description: "A page of entries", schema: AuditEntryPage } },
    }),
    validate("query", AuditListQuery),
    async (c) => {
      const query = c.req.valid("query");
      const after = query.cursor ? decodeCursor(query.cursor, [instantPart, bigintPart]) : undefined;
      const page = {
        filter: toFilter(query),
        limit: query.limit,
        after: after && { occurredAt: after[0], id: after[1] },
      };
      const rows = await withUser(c.get("claims"), (tx) => listAuditEntries(tx, page));
      const { items, hasMore } = takePage(rows, query.limit);
      const last = items.at(-1);
      return c.json({
        data: items.map(({ cursor_occurred_at: _, ...entry }) => entry),
        next_cursor: hasMore && last ? encodeCursor([last.cursor_occurred_at, last.id]) : null,
      });
    },
  )
  .get(
    "/verify",
    documented({
      summary: "Seal what is final and verify the hash chain (from a checkpoint if given)",
      responses: { 200: { description: "The verification result", schema: VerifyResult } },
    }),
    validate("query", VerifyQuery),
    async (c) => {
      const query = c.req.valid("query");
      const started = performance.now();
      const scope = { afterId: query.after_id, hash: query.hash };
      const result = await withUser(c.get("claims"), (tx) => verifyAuditChain(tx, scope), VERIFY_CONTEXT);
      const verified: z.output<typeof VerifyResult> = {
        ok: result.ok,
        entries_checked: Number(result.checked),
        first_bad_id: result.first_bad_id,
        problem: result.problem,
        head: { id: result.head_id, hash: result.head_hash },
        sealed_through: result.sealed_through,
        unsealed: Number(result.unsealed),
        duration_ms: Math.round(performance.now() - started),
      };
      return c.json(verified);
    },
  );
