/** Staff status, decided by the database (public.users.role through private.is_staff()). */
import type { Tx } from "../../_shared/db.ts";

/** One row: true when the caller's user row says support or admin. Never read from a token claim. */
export function isStaff(tx: Tx) {
  return tx<{ staff: boolean }[]>`select private.is_staff() as staff`;
}
