/**
 * GET /metrics: the operations signals in the Prometheus text exposition format (version 0.0.4):
 * `# HELP` and `# TYPE` per family, one sample per line, label values escaped (backslash, double
 * quote, line feed), counters ending in `_total`, times in seconds, labels of low cardinality
 * (outcome, function, status class, job, kind, severity, state; never an id or a person).
 * Auth: a staff session, or `Authorization: Bearer <METRICS_SCRAPE_TOKEN>` when that is set
 * (index.ts, machine_auth.ts). Names and labels: docs/OPERATIONS.md, "Metrics".
 */
import { Hono } from "hono";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { NoQuery } from "../../_shared/schemas.ts";
import { queryAs } from "../../_shared/caller.ts";
import type { OperationsEnv } from "../machine_auth.ts";
import { readMetrics } from "../repositories/operations.ts";
import type { MetricSample } from "../repositories/operations.ts";

export const METRIC_PREFIX = "workspace_";

export interface MetricFamily {
  /** Without METRIC_PREFIX: the `metric` column of ops.metrics(). */
  name: string;
  type: "counter" | "gauge";
  help: string;
}

/**
 * Every family /metrics serves, in order. A family is one row here plus its RETURN QUERY in
 * ops.metrics() (a migration); samples of a metric not listed here are not served.
 */
export const METRIC_FAMILIES: readonly MetricFamily[] = [
  {
    name: "webhook_deliveries_total",
    type: "counter",
    help:
      "Clerk webhook deliveries by outcome (applied, duplicate, stale, tombstoned, pending, impersonated, ignored, rejected_signature, rejected_payload, failed).",
  },
  {
    name: "clerk_webhook_warnings_total",
    type: "counter",
    help:
      "Clerk deliveries applied although part of the payload could not be stored, by kind (primary_email_missing, phone_number_invalid, ...).",
  },
  {
    name: "http_requests_total",
    type: "counter",
    help: "Edge Function requests by function and status class (2xx, 3xx, 401, 403, 429, other 4xx, 5xx).",
  },
  {
    name: "dsar_requests_open",
    type: "gauge",
    help: "Data-subject requests not completed or cancelled, by kind.",
  },
  {
    name: "dsar_requests_due_soon",
    type: "gauge",
    help: "Open data-subject requests due within 3 days, by kind.",
  },
  {
    name: "dsar_requests_overdue",
    type: "gauge",
    help: "Open data-subject requests past their due date, by kind.",
  },
  { name: "dsar_requests_failed", type: "gauge", help: "Data-subject requests in status failed, by kind." },
  { name: "cron_job_runs_24h", type: "gauge", help: "Finished pg_cron runs in the last 24 hours, per job." },
  {
    name: "cron_job_failures_24h",
    type: "gauge",
    help: "Failed pg_cron runs in the last 24 hours, per job.",
  },
  {
    name: "cron_job_seconds_since_last_success",
    type: "gauge",
    help: "Seconds since the last successful run, per job (absent for a job that never succeeded).",
  },
  { name: "audit_chain_ok", type: "gauge", help: "1 when the last audit chain verification passed, else 0." },
  {
    name: "audit_chain_verified_timestamp_seconds",
    type: "gauge",
    help: "Unix time of the last audit chain verification (job verify-audit-chain).",
  },
  {
    name: "audit_unsealed_entries",
    type: "gauge",
    help: "Audit log entries not yet sealed into the hash chain.",
  },
  {
    name: "database_connections",
    type: "gauge",
    help: "Client connections to this database by state (active, idle, idle in transaction, ...).",
  },
  { name: "database_max_connections", type: "gauge", help: "The server's max_connections." },
  { name: "alerts_open", type: "gauge", help: "Open alerts by severity." },
  { name: "notifications", type: "gauge", help: "Alert notifications in the outbox by status." },
  { name: "alert_rule_errors", type: "gauge", help: "1 per alert rule whose last evaluation failed." },
];

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** HELP text: backslash and line feed escaped. */
export function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/** Label value: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function formatLabels(labels: Record<string, string>): string {
  const names = Object.keys(labels).filter((name) => LABEL_NAME.test(name)).sort();
  if (names.length === 0) return "";
  return `{${names.map((name) => `${name}="${escapeLabelValue(String(labels[name]))}"`).join(",")}}`;
}

/** The exposition text of `samples`, family by family in METRIC_FAMILIES order. */
export function renderMetrics(
  samples: readonly MetricSample[],
  families: readonly MetricFamily[] = METRIC_FAMILIES,
): string {
  const byMetric = new Map<string, string[]>();
  for (const sample of samples) {
    const lines = byMetric.get(sample.metric) ?? [];
    lines.push(
      `${METRIC_PREFIX}${sample.metric}${formatLabels(sample.labels)} ${formatValue(Number(sample.value))}`,
    );
    byMetric.set(sample.metric, lines);
  }
  const out: string[] = [];
  for (const family of families) {
    const name = `${METRIC_PREFIX}${family.name}`;
    out.push(`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${family.type}`);
    out.push(...(byMetric.get(family.name) ?? []).sort());
  }
  return out.join("\n") + "\n";
}

export const metricsRoutes = new Hono<OperationsEnv>()
  .get(
    "/",
    documented({
      summary: "Metrics in the Prometheus text exposition format",
      responses: { 200: "The exposition text (text/plain; version=0.0.4)", 403: "Not staff" },
    }),
    validate("query", NoQuery),
    async (c) => {
      const samples = await queryAs(c.get("caller"), readMetrics);
      c.header("cache-control", "no-store");
      c.header("content-type", PROMETHEUS_CONTENT_TYPE);
      return c.body(renderMetrics(samples));
    },
  );
