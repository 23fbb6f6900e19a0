/**
 * SQL of the in-memory signal aggregator (../signals.ts): one statement per flush, as automation
 * (`service_role`, actor `signals`). The functions it calls are security definer in `private`
 * (migration 20261202110000_ops_signals.sql); nothing personal is ever passed.
 */
import { queryAsServiceRole } from "../db.ts";

export interface RequestCount {
  bucket: string;
  function_name: string;
  status_class: string;
  requests: number;
}

export interface OutcomeCount {
  outcome: string;
  deliveries: number;
}

/**
 * Adds a batch of request counts and webhook outcome counts in one round trip. The batch goes as
 * text cast in SQL (`::text::jsonb`): a string bound to a jsonb parameter would be encoded again.
 */
export async function recordSignals(requests: RequestCount[], outcomes: OutcomeCount[]): Promise<void> {
  await queryAsServiceRole(
    "signals",
    (tx) =>
      tx`
        select private.record_http_requests(${JSON.stringify(requests)}::text::jsonb) as requests,
               (select count(private.record_webhook_outcome(o.outcome, o.deliveries))
                  from unnest(${outcomes.map((o) => o.outcome)}::text[],
                              ${
        outcomes.map((o) => o.deliveries)
      }::int[]) as o(outcome, deliveries)) as outcomes
      `,
  );
}
