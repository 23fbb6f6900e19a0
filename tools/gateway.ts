/**
 * Local gateway: serves every function in supabase/functions at
 * http://127.0.0.1:<port>/functions/v1/<name>/..., the path layout of Supabase's edge gateway,
 * and the dev issuer's JWKS at /clerk/.well-known/jwks.json. Stands in for
 * `supabase functions serve`, which needs Docker.
 *
 *   deno run -A tools/gateway.ts [--port 54321]
 *
 * Each function module exports its Hono app; the gateway imports them in one process (so they
 * share nothing but the process) after filling the development environment.
 */
import { devJwks } from "./dev_issuer.ts";
import { developmentEnvironment } from "./dev_env.ts";

const portIndex = Deno.args.indexOf("--port");
const port = portIndex >= 0 ? Number(Deno.args[portIndex + 1]) : 54321;

for (const [name, value] of Object.entries(await developmentEnvironment(port))) Deno.env.set(name, value);
// Function entry points check this and leave serving to us.
Deno.env.set("EDGE_FUNCTIONS_EMBEDDED", "1");

type FetchHandler = (request: Request) => Response | Promise<Response>;
const functionsDir = new URL("../supabase/functions/", import.meta.url);
const handlers = new Map<string, FetchHandler>();
for await (const entry of Deno.readDir(functionsDir)) {
  if (!entry.isDirectory || entry.name.startsWith("_")) continue;
  const module = await import(new URL(`${entry.name}/index.ts`, functionsDir).href);
  handlers.set(entry.name, module.app.fetch.bind(module.app));
}

const FUNCTION_PATH = /^\/functions\/v1\/([a-z0-9-]+)(\/.*)?$/;

Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (request) => {
  const url = new URL(request.url);
  if (url.pathname === "/clerk/.well-known/jwks.json") {
    return Response.json(await devJwks(), { headers: { "cache-control": "public, max-age=300" } });
  }
  const match = FUNCTION_PATH.exec(url.pathname);
  const handler = match && handlers.get(match[1]);
  if (!match || !handler) {
    return Response.json({ title: "Not Found", status: 404, detail: "no such function" }, { status: 404 });
  }
  // Supabase hands the function the path without /functions/v1.
  url.pathname = url.pathname.slice("/functions/v1".length);
  return handler(new Request(url, request));
});

console.log(
  JSON.stringify({
    msg: "gateway listening",
    url: `http://127.0.0.1:${port}/functions/v1`,
    functions: [...handlers.keys()].sort(),
  }),
);
