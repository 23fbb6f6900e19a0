/** GET /projects/:id/history: change events, newest first, keyset paginated. */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { notFound } from "../../_shared/errors.ts";
import { bigintPart, decodeCursor, encodeCursor, takePage } from "../../_shared/pagination.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { queryAsUser } from "../../_shared/db.ts";
import { HistoryEvent, page, PageQuery, ProjectIdParam } from "../schemas.ts";
import { listHistory } from "../repositories/history.ts";
import type { HistoryRow } from "../rows.ts";

export const historyRoutes = new Hono<SessionEnv>()
  .get(
    "/:id/history",
    documented({
      summary: "Change events, newest first",
      responses: { 200: page(HistoryEvent), 404: "No such project" },
    }),
    validate("param", ProjectIdParam),
    validate("query", PageQuery),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const beforeId = cursor ? decodeCursor(cursor, [bigintPart])[0] : undefined;
      const claims = c.get("claims");
      const rows = await queryAsUser(
        claims,
        (tx) => listHistory(tx, claims.sub, c.req.valid("param").id, limit, beforeId),
      );
      if (rows.length === 0) throw notFound("project");
      // A visible project without (more) history is one row of nulls (the lateral join).
      const events = rows.filter((row): row is HistoryRow => row.id !== null);
      const { items, hasMore } = takePage(events, limit);
      const last = items.at(-1);
      return c.json({ data: items, next_cursor: hasMore && last ? encodeCursor([last.id]) : null });
    },
  );
