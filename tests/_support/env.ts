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
