/**
 * Where the integration tests find the stack. tools/test.sh exports these; running a single test
 * file by hand against `npm run dev` works with the defaults.
 */
export const DB_URL = Deno.env.get("SUPABASE_DB_URL") ??
  "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
export const FUNCTIONS_URL = Deno.env.get("FUNCTIONS_URL") ?? "http://127.0.0.1:54321/functions/v1";
export const GATEWAY_URL = FUNCTIONS_URL.replace(/\/functions\/v1$/, "");
export const CLERK_ISSUER = Deno.env.get("CLERK_ISSUER") ?? `${GATEWAY_URL}/clerk`;
export const ROOT = new URL("../../", import.meta.url).pathname;

function port(name: string, fallback: number): number {
  const value = Deno.env.get(name);
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535) {
    throw new Error(`${name} must be a TCP port number, got "${value}"`);
  }
  return parsed;
}

/** The development database's port (the port convention: docs/README, issue 13). */
export const PG_PORT = port("PG_PORT", 54322);
/** migrations_test.ts's scratch cluster (rollback round trip). */
export const ROLLBACK_PG_PORT = port("ROLLBACK_PG_PORT", PG_PORT + 7);
/** jobs_test.ts's scratch cluster (db:deploy, db:restore-check). */
export const DEPLOY_PG_PORT = port("DEPLOY_PG_PORT", PG_PORT + 17);
