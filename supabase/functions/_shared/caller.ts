/**
 * Who a transaction runs as, chosen by the route: a signed-in user (role authenticated, RLS decides;
 * staff powers are read from public.users.role by the database) or automation (service_role under
 * its own name: the privacy runner, the metrics scraper, the alert dispatcher, each authenticated
 * by its shared secret). The repositories only build statements on the `tx` they are given, so
 * two of them compose in one transaction (withUser/withServiceRole around both); `queryAs` is the
 * one-statement, one-round-trip case. The request id reaches the transaction from the request's
 * AsyncLocalStorage (request_context.ts).
 */
import { queryAsServiceRole, queryAsUser } from "./db.ts";
import type { Row, Tx, UserClaims } from "./db.ts";
import type postgres from "postgres";

export type Caller =
  | { kind: "user"; claims: UserClaims }
  | { kind: "service"; actor: string };

/** One statement as `caller`: the user under RLS, or the automation as service_role. */
export function queryAs<T extends readonly Row[]>(
  caller: Caller,
  statement: (tx: Tx) => postgres.PendingQuery<T>,
): Promise<T> {
  return caller.kind === "user"
    ? queryAsUser(caller.claims, statement)
    : queryAsServiceRole(caller.actor, statement);
}
