/**
 * Who a statement runs as: a signed-in user (role authenticated, RLS decides; staff powers are read
 * from public.users.role by the privacy functions) or automation (service_role, for the scheduled
 * runner authenticated by its shared secret). Either way one round trip per statement.
 */
import { queryAsServiceRole, queryAsUser } from "../../_shared/db.ts";
import type { Row, Tx, UserClaims } from "../../_shared/db.ts";
import type postgres from "postgres";

export type Caller =
  | { kind: "user"; claims: UserClaims; requestId?: string }
  | { kind: "service"; actor: string; requestId?: string };

export function queryAs<T extends readonly Row[]>(
  caller: Caller,
  statement: (tx: Tx) => postgres.PendingQuery<T>,
): Promise<T> {
  const context = { requestId: caller.requestId };
  return caller.kind === "user"
    ? queryAsUser(caller.claims, statement, context)
    : queryAsServiceRole(caller.actor, statement, context);
}
