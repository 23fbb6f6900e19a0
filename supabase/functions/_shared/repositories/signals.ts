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

/** Adds a batch of request counts and webhook outcome counts in one round trip. */
export async function recordSignals(requests: RequestCount[], outcomes: OutcomeCount[]): Promise<void> {
  await queryAsServiceRole(
    "signals",
    (tx) =>
      tx`
        select private.record_http_requests(${JSON.stringify(requests)}::jsonb) as requests,
               (select count(private.record_webhook_outcome(o.outcome, o.deliveries))
                  from jsonb_to_recordset(${
        JSON.stringify(outcomes)
      }::jsonb) as o(outcome text, deliveries integer))
                 as outcomes
      `,
  );
}
