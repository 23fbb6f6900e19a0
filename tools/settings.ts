/**
 * The ports and database every tool, test and benchmark uses, read from the environment that
 * tools/lib.sh exports (every npm script runs through tools/run.sh, which sources it). The defaults
 * live in lib.sh alone; a value missing here means the command was not started through npm or
 * tools/run.sh, and it stops with one line saying so instead of guessing a port that may be
 * somebody else's server.
 *
 *   PG_PORT GATEWAY_PORT TEST_PG_PORT TEST_GATEWAY_PORT ROLLBACK_PG_PORT DEPLOY_PG_PORT FAULT_PG_PORT
 *   FAULT_GATEWAY_PORT
 *   SUPABASE_DB_URL FUNCTIONS_URL
 */
import { parseArgs } from "node:util";
import type { ParseArgsOptionsConfig } from "node:util";

export type PortName =
  | "PG_PORT"
  | "GATEWAY_PORT"
  | "TEST_PG_PORT"
  | "TEST_GATEWAY_PORT"
  | "ROLLBACK_PG_PORT"
  | "DEPLOY_PG_PORT"
  | "FAULT_PG_PORT"
  | "FAULT_GATEWAY_PORT";

/** Stops the process with one line on stderr (no stack trace: the cause and the fix). */
export function fail(message: string): never {
  const name = new URL(Deno.mainModule).pathname.split("/").pop()?.replace(/\.ts$/, "") ?? "deno";
  console.error(`[${name}] error: ${message}`);
  Deno.exit(2);
}

/** An environment variable tools/lib.sh exports; missing: one line naming the fix, exit 2. */
export function required(name: string): string {
  const value = Deno.env.get(name)?.trim();
  if (!value) {
    fail(
      `${name} is not set: run this through npm (npm run <script>) or \`bash tools/run.sh <command>\`, ` +
        `which export the ports and database of tools/lib.sh`,
    );
  }
  return value;
}

export function port(name: PortName): number {
  const raw = required(name);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) fail(`${name}=${raw} is not a port number`);
  return value;
}

/** The database: SUPABASE_DB_URL (lib.sh sets it to the local cluster unless given). */
export function dbUrl(): string {
  return required("SUPABASE_DB_URL");
}

/** Where the functions are served: FUNCTIONS_URL (default http://127.0.0.1:GATEWAY_PORT/functions/v1). */
export function functionsUrl(): string {
  return required("FUNCTIONS_URL").replace(/\/+$/, "");
}

/** The local database URL of a cluster on `pgPort` (the local stack's credentials). */
export function localDbUrl(pgPort: number): string {
  return `postgresql://postgres:postgres@127.0.0.1:${pgPort}/postgres`;
}

/**
 * The command line through node:util `parseArgs` (strict: an unknown or malformed option stops
 * the tool with one line naming it, exit 2), e.g.
 *   const { values, positionals } = commandLine({ port: { type: "string" } }, { positionals: true });
 */
export function commandLine<const T extends ParseArgsOptionsConfig>(
  options: T,
  { positionals = false, args = Deno.args }: { positionals?: boolean; args?: string[] } = {},
) {
  try {
    return parseArgs({ args, options, allowPositionals: positionals, strict: true });
  } catch (error) {
    fail((error as Error).message);
  }
}

/** A `--port` option's value as a port number (fails with one line when it is not one). */
export function portOption(value: string | undefined, fallback: PortName): number {
  if (value === undefined) return port(fallback);
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535) fail(`--port ${value} is not a port number`);
  return parsed;
}
