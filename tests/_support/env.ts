/**
 * Where the integration tests find the stack: the settings tools/lib.sh exports (README, "Ports
 * and databases"). `npm test` runs them against the tests' own cluster and gateway; one file by
 * hand, with the same settings: `bash tools/run.sh deno test -A tests/api_test.ts` (against
 * `npm run dev`: the development database and gateway). Without them, a test file stops at once
 * with one line saying how to run it (tools/settings.ts), rather than guess a port.
 */
import { dbUrl, functionsUrl, port } from "../../tools/settings.ts";

export const DB_URL = dbUrl();
export const FUNCTIONS_URL = functionsUrl();
export const GATEWAY_URL = FUNCTIONS_URL.replace(/\/functions\/v1$/, "");
export const CLERK_ISSUER = Deno.env.get("CLERK_ISSUER") || `${GATEWAY_URL}/clerk`;
/** Scratch cluster of the migration round trip (tests/migrations_test.ts). */
export const ROLLBACK_PG_PORT = port("ROLLBACK_PG_PORT");
/** Scratch cluster of the deploy and restore checks (tests/jobs_test.ts). */
export const DEPLOY_PG_PORT = port("DEPLOY_PG_PORT");
export const ROOT = new URL("../../", import.meta.url).pathname;

/** The fault test's own scratch cluster and gateway (tests/fault_test.ts). */
export const FAULT_PG_PORT = port("FAULT_PG_PORT");
export const FAULT_GATEWAY_PORT = port("FAULT_GATEWAY_PORT");
