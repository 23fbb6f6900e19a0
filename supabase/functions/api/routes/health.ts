/** GET /health: no token; 200 when the database answers, 503 when it does not (deploy gates). */
import { Hono } from "hono";
import type { AppEnv } from "../../_shared/http.ts";
import { documented } from "../../_shared/openapi.ts";
import { ping } from "../../_shared/db.ts";

export const healthRoutes = new Hono<AppEnv>().get(
  "/",
  documented({
    summary: "Database reachability (no token)",
    responses: { 200: "Database answers", 503: "Database unavailable" },
  }),
  async (c) => {
    await ping();
    return c.json({ status: "ok" });
  },
);
