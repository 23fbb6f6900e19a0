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

/**
 * The fault test's own gateway and scratch cluster (tests/fault_test.ts). TEST_GATEWAY_PORT + 1 is
 * TEST_PG_PORT in the team's port convention (TEST_PG_PORT = PG_PORT + 10, PG_PORT = GATEWAY_PORT + 1),
 * so they take + 2 and + 3.
 */
const TEST_GATEWAY_PORT = Number(Deno.env.get("TEST_GATEWAY_PORT") ?? (new URL(FUNCTIONS_URL).port || 54331));
export const FAULT_GATEWAY_PORT = Number(Deno.env.get("FAULT_GATEWAY_PORT") ?? TEST_GATEWAY_PORT + 2);
export const FAULT_PG_PORT = Number(Deno.env.get("FAULT_PG_PORT") ?? TEST_GATEWAY_PORT + 3);
