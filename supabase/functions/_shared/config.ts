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

/**
 * Settings are grouped as zod shapes; a function spreads the groups it needs into one
 * `z.object({...})` and passes it to `loadConfig`.
 */

/** Database connection settings shared by every function. */
export const DatabaseSettings = {
  SUPABASE_DB_URL: postgresUrl,
  /** Connections per isolate. Small: Supabase runs many isolates against one Postgres. */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(50).default(5),
  /** Set to false behind the Supavisor transaction pooler (port 6543), which cannot keep prepared statements. */
  DB_PREPARE: z.enum(["true", "false"]).default("true").transform((value) => value === "true"),
  /** Per-transaction statement timeout for user requests (the API roles' own setting does not apply under SET ROLE). */
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
};

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
