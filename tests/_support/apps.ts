/**
 * A function's Hono app, imported in this process as tools/gateway.ts imports it (not served from
 * here), with the development environment of the tests' gateway (same dev issuer, same database).
 */
import type { Hono } from "hono";
import { developmentEnvironment } from "../../tools/dev_env.ts";
import { FUNCTIONS_URL } from "./env.ts";

/** Routes answering without credentials, on purpose ("METHOD /fn/path", as in `app.routes`). */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  "GET /api/health",
  "GET /api/openapi.json",
  "GET /clerk-webhooks/openapi.json",
]);

let environmentSet = false;

async function useGatewayEnvironment(): Promise<void> {
  if (environmentSet) return;
  const port = Number(new URL(FUNCTIONS_URL).port);
  for (const [name, value] of Object.entries(await developmentEnvironment(port))) {
    if (!Deno.env.get(name)) Deno.env.set(name, value);
  }
  // Function entry points check this and leave serving to their importer.
  Deno.env.set("EDGE_FUNCTIONS_EMBEDDED", "1");
  environmentSet = true;
}

export async function functionApp(name: string): Promise<Hono> {
  await useGatewayEnvironment();
  return (await import(`../../supabase/functions/${name}/index.ts`)).app as Hono;
}
