/**
 * Environment configuration, validated once at start-up with zod.
 *
 * Each function declares the settings it needs by composing the pieces below and calling
 * `loadConfig`. A missing or malformed value stops the isolate with a message naming the
 * variable. Secrets are never defaulted; only tuning knobs (pool size, body limit) have defaults.
 */
import { z } from "zod";

const commaList = z
  .string()
  .transform((value) => value.split(",").map((item) => item.trim()).filter((item) => item.length > 0));

const origin = z.string().refine((value) => {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}, "must be an origin like https://app.example.com (scheme, host, optional port, no path)");

const postgresUrl = z
  .string()
  .refine((value) => /^postgres(ql)?:\/\/.+/.test(value), "must be a postgresql:// connection URL");

const httpUrl = z.url({ protocol: /^https?$/ });

/** Hosts on which plain http is accepted: local stand-ins and sinks the tests and `npm run dev` start. */
const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

/** An http(s) URL that is https, or plain http on a loopback host. */
export const httpsOrLoopbackUrl = httpUrl.refine((value) => {
  const url = new URL(value);
  return url.protocol === "https:" || LOOPBACK_HOSTS.includes(url.hostname);
}, "must be https (http only on loopback)");

/**
 * Settings are grouped as zod shapes; a function spreads the groups it needs into one
 * `z.object({...})` and passes it to `loadConfig`.
 */

/**
 * Database connection settings shared by every function (resolved by `resolveDatabaseSettings`).
 *
 * The URL: `DB_URL` when set, else `SUPABASE_DB_URL`. Supabase provides `SUPABASE_DB_URL` to every
 * function (the direct connection, port 5432) and `supabase secrets set` refuses names starting with
 * `SUPABASE_`, so the Supavisor transaction pooler (port 6543) can only be chosen through `DB_URL`.
 */
export const DatabaseSettings = {
  /** The connection the functions use; wins over SUPABASE_DB_URL. In production: the transaction pooler. */
  DB_URL: postgresUrl.optional(),
  /** Provided by the platform: the direct connection. The fallback when DB_URL is not set. */
  SUPABASE_DB_URL: postgresUrl.optional(),
  /**
   * What sits between the functions and Postgres: `transaction` (Supavisor or PgBouncer in transaction mode:
   * a server connection per transaction), `session` (a server connection per client connection) or `none`
   * (direct). Default: derived from the URL, port 6543 is `transaction`, a `*.pooler.supabase.com` host on
   * another port is `session`, anything else `none`.
   */
  DB_POOLER: z.enum(["transaction", "session", "none"]).optional(),
  /**
   * postgres.js named prepared statements. Default: on, except behind a transaction pooler (Supavisor in
   * transaction mode does not support them). Only turn them on there for a pooler that keeps protocol-level
   * prepared statements (PgBouncer >= 1.21 with max_prepared_statements).
   */
  DB_PREPARE: z.enum(["true", "false"]).optional().transform((value) =>
    value === undefined ? undefined : value === "true"
  ),
  /** Connections per isolate. Small: Supabase runs many isolates against one Postgres. */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(50).default(5),
  /** Per-transaction statement timeout for user requests (the API roles' own setting does not apply under SET ROLE). */
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /**
   * Longest a transaction may hold the caller, from waiting for a connection to `commit`: past it the request
   * gets a 503 and the connection is destroyed, never returned to the pool. Must exceed
   * DB_STATEMENT_TIMEOUT_MS (the server's own timeout answers first when the server can). Default: the
   * statement timeout + 3 s.
   */
  DB_REQUEST_DEADLINE_MS: z.coerce.number().int().min(200).max(120_000).optional(),
  /** Serve GET /<function>/_db/stats (pool counters, no data). For tests and local diagnosis only. */
  DB_DEBUG_STATS: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
};

export type PoolerMode = "transaction" | "session" | "none";

/** The database settings after defaults and cross-checks: what `_shared/db.ts` is configured with. */
export interface ResolvedDatabaseSettings {
  url: string;
  /** Which variable the URL came from (for the start-up log; never the URL itself: it has a password). */
  urlSource: "DB_URL" | "SUPABASE_DB_URL";
  pooler: PoolerMode;
  /** Whether `pooler` was derived from the URL rather than set. */
  poolerDerived: boolean;
  prepare: boolean;
  poolSize: number;
  statementTimeoutMs: number;
  requestDeadlineMs: number;
  debugStats: boolean;
}

/** Margin of the default request deadline over the statement timeout. */
export const DEFAULT_DEADLINE_MARGIN_MS = 3_000;

/** The pooler a URL points at, when DB_POOLER does not say: Supabase's ports and host names. */
export function poolerFromUrl(url: string): PoolerMode {
  let parsed: URL;
  try {
    // postgres:// is not a special scheme for URL; swap it so host and port parse.
    parsed = new URL(url.replace(/^postgres(ql)?:/, "http:"));
  } catch {
    return "none";
  }
  if (parsed.port === "6543") return "transaction";
  if (parsed.hostname.endsWith(".pooler.supabase.com")) return "session";
  return "none";
}

/**
 * Applies defaults and the checks one field cannot make alone; throws ConfigError naming the variables.
 * Called by `configureDatabaseFrom` at start-up, right after `loadConfig`.
 */
export function resolveDatabaseSettings(settings: {
  DB_URL?: string;
  SUPABASE_DB_URL?: string;
  DB_POOLER?: PoolerMode;
  DB_PREPARE?: boolean;
  DB_POOL_SIZE: number;
  DB_STATEMENT_TIMEOUT_MS: number;
  DB_REQUEST_DEADLINE_MS?: number;
  DB_DEBUG_STATS?: boolean;
}): ResolvedDatabaseSettings {
  const url = settings.DB_URL ?? settings.SUPABASE_DB_URL;
  if (!url) {
    throw new ConfigError([
      "SUPABASE_DB_URL is required but not set (set DB_URL to use a pooler; Supabase provides SUPABASE_DB_URL)",
    ]);
  }
  const pooler = settings.DB_POOLER ?? poolerFromUrl(url);
  const requestDeadlineMs = settings.DB_REQUEST_DEADLINE_MS ??
    settings.DB_STATEMENT_TIMEOUT_MS + DEFAULT_DEADLINE_MARGIN_MS;
  if (requestDeadlineMs <= settings.DB_STATEMENT_TIMEOUT_MS) {
    throw new ConfigError([
      `DB_REQUEST_DEADLINE_MS: must exceed DB_STATEMENT_TIMEOUT_MS (${settings.DB_STATEMENT_TIMEOUT_MS})`,
    ]);
  }
  return {
    url,
    urlSource: settings.DB_URL ? "DB_URL" : "SUPABASE_DB_URL",
    pooler,
    poolerDerived: settings.DB_POOLER === undefined,
    prepare: settings.DB_PREPARE ?? pooler !== "transaction",
    poolSize: settings.DB_POOL_SIZE,
    statementTimeoutMs: settings.DB_STATEMENT_TIMEOUT_MS,
    requestDeadlineMs,
    debugStats: settings.DB_DEBUG_STATS ?? false,
  };
}

/** Clerk session-token verification. */
export const ClerkSessionSettings = {
  /** Clerk Frontend API URL, the `iss` of session tokens, e.g. https://clerk.example.com. */
  CLERK_ISSUER: httpUrl,
  /** Defaults to `${CLERK_ISSUER}/.well-known/jwks.json`, where Clerk publishes its keys. */
  CLERK_JWKS_URL: httpUrl.optional(),
  /** Origins allowed in the `azp` claim. Empty: not checked. */
  CLERK_AUTHORIZED_PARTIES: commaList.pipe(z.array(origin)).default([]),
};

/** HTTP surface settings. */
export const HttpSettings = {
  /** Browser origins allowed by CORS. Empty: no CORS headers (server-to-server and native apps only). */
  CORS_ORIGINS: commaList.pipe(z.array(origin)).default([]),
  /** Largest request body accepted, in bytes. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(262_144),
};

/** A URL notifications may be posted to: https, or http on a loopback host (local sinks and tests). */
const notificationUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    if (url.username || url.password) return false;
    return url.protocol === "https:" ||
      (url.protocol === "http:" && LOOPBACK_HOSTS.includes(url.hostname));
  } catch {
    return false;
  }
}, "must be an https:// URL (http:// only on 127.0.0.1 or localhost), without credentials");

/** A shared secret compared in constant time: long enough that guessing is hopeless. */
const sharedSecret = z.string().min(32, "must be at least 32 characters").max(512);

/**
 * Operations settings of the admin function (docs/OPERATIONS.md). All optional: without them only
 * staff sessions read metrics, only staff trigger the dispatcher, and notifications wait in the
 * outbox until a URL is set.
 */
export const OperationsSettings = {
  /** Bearer token a Prometheus scraper sends to GET /admin/metrics. Unset: staff sessions only. */
  METRICS_SCRAPE_TOKEN: sharedSecret.optional(),
  /** Where alert notifications are posted (a Slack incoming webhook, or any JSON receiver). */
  ALERT_WEBHOOK_URL: notificationUrl.optional(),
  /** Body of the notifications: `slack` (incoming-webhook `text`) or `json` (the generic body). */
  ALERT_WEBHOOK_FORMAT: z.enum(["slack", "json"]).default("json"),
  /** Secret pg_cron (through pg_net) sends in x-alerts-dispatch-secret. Unset: staff sessions only. */
  ALERT_DISPATCH_SECRET: sharedSecret.optional(),
  /** Longest wait for the notification receiver, per notification. */
  ALERT_SEND_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** Environment variables as strings, with empty values treated as unset. */
function readEnvironment(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (value.trim() !== "") values[key] = value;
  }
  return values;
}

/**
 * Parses the environment with `schema`. Throws ConfigError naming every missing or malformed
 * variable (never its value: it may be a secret).
 */
export function loadConfig<T extends z.ZodType>(
  schema: T,
  env: Record<string, string> = readEnvironment(),
): z.output<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "(environment)";
    return issue.code === "invalid_type" && issue.input === undefined
      ? `${name} is required but not set`
      : `${name}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}
