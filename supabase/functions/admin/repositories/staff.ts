/** Staff status, decided by the database (public.users.role through private.is_staff()). */
import { queryAsUser } from "../../_shared/db.ts";
import type { RequestContext, UserClaims } from "../../_shared/db.ts";

/** True when the caller's user row says support or admin. Never read from a token claim. */
export async function isStaff(claims: UserClaims, context?: RequestContext): Promise<boolean> {
  const [row] = await queryAsUser(claims, (tx) => tx`select private.is_staff() as staff`, context);
  return row?.staff === true;
}
