/**
 * GET /alerts (staff; mounted behind requireSession + requireStaff): open alerts and the latest
 * resolved ones, with the state of their notifications.
 * POST /alerts/dispatch (staff, or automation with x-alerts-dispatch-secret; index.ts): one round
 * of the notification dispatcher (../notifications.ts), woken by pg_cron through pg_net in
 * production and by tools/dev.sh locally. Answers with the round's counts.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { SessionEnv } from "../../_shared/auth.ts";
import { queryAsUser } from "../../_shared/db.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { NoQuery } from "../../_shared/schemas.ts";
import type { OperationsEnv } from "../machine_auth.ts";
import { listAlerts } from "../repositories/operations.ts";
import { AlertList, DispatchRound } from "../schemas.ts";
import { dispatchNotifications } from "../notifications.ts";
import type { DispatchOptions } from "../notifications.ts";

const AlertsQuery = z.strictObject({
  resolved: z.coerce.number().int().min(0).max(500).default(50),
});

export const alertRoutes = new Hono<SessionEnv>()
  .get(
    "/",
    documented({
      summary: "Open alerts and the latest resolved ones",
      responses: { 200: { description: "The alerts", schema: AlertList } },
    }),
    validate("query", AlertsQuery),
    async (c) => {
      const rows = await queryAsUser(c.get("claims"), (tx) => listAlerts(tx, c.req.valid("query").resolved));
      return c.json({
        data: rows.map((row) => ({ ...row, value: Number(row.value), threshold: Number(row.threshold) })),
      });
    },
  );

export function dispatchRoutes(options: DispatchOptions) {
  return new Hono<OperationsEnv>()
    .post(
      "/",
      documented({
        summary: "One round of the alert notification dispatcher",
        responses: {
          200: { description: "What the round claimed, sent, retried and gave up", schema: DispatchRound },
          403: "Not staff",
        },
      }),
      validate("query", NoQuery),
      async (c) => {
        return c.json(await dispatchNotifications(options));
      },
    );
}
