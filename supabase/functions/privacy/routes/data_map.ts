/** GET /data-map: the registry of tables holding personal data, for staff (403 for others). */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { forbidden } from "../../_shared/errors.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { DataMap, EmptyQuery } from "../schemas.ts";
import { rateLimit, userCaller } from "../rate_limit.ts";
import { queryAs } from "../../_shared/caller.ts";
import { readDataMap } from "../repositories/data_map.ts";

export const dataMapRoutes = new Hono<SessionEnv>()
  .get(
    "/",
    documented({
      summary: "The registry of tables holding personal data (staff)",
      responses: { 200: { description: "The data map", schema: DataMap }, 403: "Staff only" },
    }),
    rateLimit("read"),
    validate("query", EmptyQuery),
    async (c) => {
      const [map] = await queryAs(userCaller(c), readDataMap);
      if (!map.staff) throw forbidden("staff only");
      return c.json({ data: map.tables });
    },
  );
