/** Middleware: staff only. Runs after requireSession; the database decides, per request. */
import type { MiddlewareHandler } from "hono";
import type { SessionEnv } from "../_shared/auth.ts";
import { forbidden } from "../_shared/errors.ts";
import { queryAsUser } from "../_shared/db.ts";
import { isStaff } from "./repositories/staff.ts";

/**
 * 403 unless public.users.role of the caller is support or admin. Read on every request (no
 * cache), so a revoked role takes effect at once; a `role` claim in the token is never consulted.
 */
export const requireStaff: MiddlewareHandler<SessionEnv> = async (c, next) => {
  const [row] = await queryAsUser(c.get("claims"), isStaff);
  if (row?.staff !== true) {
    throw forbidden("staff only");
  }
  await next();
};
