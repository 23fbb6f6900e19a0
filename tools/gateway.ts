/**
 * Local gateway: serves every function in supabase/functions at
 * http://127.0.0.1:<port>/functions/v1/<name>/..., the path layout of Supabase's edge gateway,
 * and the dev issuer's JWKS at /clerk/.well-known/jwks.json. Stands in for
 * `supabase functions serve`, which needs Docker.
 *
 * and the console's sign-in stand-in at /clerk/dev/sign-in (docs/CONSOLE.md).
 *
 *   bash tools/run.sh deno run -A tools/gateway.ts [--port <port>] [--watch]
 *
 * Port: --port, else GATEWAY_PORT (tools/lib.sh). Each function module exports its Hono app; the
 * gateway imports them in one process (so they share nothing but the process) after filling the
 * development environment. As the platform does, it sets SUPABASE_URL (here
 * http://127.0.0.1:<port>), from which the functions derive their public URLs.
 *
 * Expected failures stop it with one line and exit 1: the port in use, a function's invalid
 * configuration (naming the variable and the functions that read it). With --watch (npm run dev)
 * it exits with status 75 when a file under supabase/functions/ or tools/ changes, and
 * tools/dev.sh starts it again.
 */
import { DEV_SIGN_IN_PATH, devJwks, devKey, devSignIn } from "./dev_issuer.ts";
import { developmentEnvironment, devIssuer } from "./dev_env.ts";
import { commandLine, fail, portOption } from "./settings.ts";
import { ConfigError } from "../supabase/functions/_shared/config.ts";

/** Exit status asking tools/dev.sh to start the gateway again (EX_TEMPFAIL). */
export const RESTART_STATUS = 75;

const { values: options } = commandLine({ port: { type: "string" }, watch: { type: "boolean" } });
const watch = options.watch === true;
const port = portOption(options.port, "GATEWAY_PORT");

function portInUse(error: unknown): never {
  if (error instanceof Deno.errors.AddrInUse) {
    fail(
      `port ${port} in use (is \`npm run dev\` already running? another port: GATEWAY_PORT=<port> npm run dev)`,
    );
  }
  throw error;
}

// The port first: nothing else is worth doing when another process holds it.
try {
  Deno.listen({ hostname: "127.0.0.1", port }).close();
} catch (error) {
  portInUse(error);
}

for (const [name, value] of Object.entries(await developmentEnvironment(port))) Deno.env.set(name, value);
// What the platform sets for every function: the project's URL (public URLs are built on it).
Deno.env.set("SUPABASE_URL", `http://127.0.0.1:${port}`);
// Function entry points check this and leave serving to us.
Deno.env.set("EDGE_FUNCTIONS_EMBEDDED", "1");
// The dev issuer's key now, not at the first JWKS fetch: `npm run token` only reads it.
await devKey();

type FetchHandler = (request: Request) => Response | Promise<Response>;
const functionsDir = new URL("../supabase/functions/", import.meta.url);
const handlers = new Map<string, FetchHandler>();
const names: string[] = [];
for await (const entry of Deno.readDir(functionsDir)) {
  if (entry.isDirectory && !entry.name.startsWith("_")) names.push(entry.name);
}
names.sort();
// Every module is imported before any error is reported: the same bad variable stops several
// functions, and the line names the variable and all of them, not whichever came first.
const configProblems = new Map<string, string[]>();
const otherProblems: string[] = [];
for (const name of names) {
  try {
    const module = await import(new URL(`${name}/index.ts`, functionsDir).href);
    handlers.set(name, module.app.fetch.bind(module.app));
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) {
        configProblems.set(problem, [...configProblems.get(problem) ?? [], name]);
      }
    } else {
      otherProblems.push(`function ${name} failed to load: ${(error as Error)?.message ?? error}`);
    }
  }
}
if (configProblems.size > 0) {
  fail(
    `invalid configuration: ${
      [...configProblems].map(([problem, functions]) => `${problem} (read by ${functions.join(", ")})`).join(
        "; ",
      )
    }; set the variable (see supabase/functions/.env.example) or unset it for the local default`,
  );
}
if (otherProblems.length > 0) fail(otherProblems.join("; "));

const FUNCTION_PATH = /^\/functions\/v1\/([a-z0-9-]+)(\/.*)?$/;

const handler = async (request: Request) => {
  const url = new URL(request.url);
  if (url.pathname === "/clerk/.well-known/jwks.json") {
    return Response.json(await devJwks(), { headers: { "cache-control": "public, max-age=300" } });
  }
  if (url.pathname === DEV_SIGN_IN_PATH) return devSignIn(request, devIssuer(port));
  const match = FUNCTION_PATH.exec(url.pathname);
  const fetchHandler = match && handlers.get(match[1]);
  if (!match || !fetchHandler) {
    return Response.json({ title: "Not Found", status: 404, detail: "no such function" }, { status: 404 });
  }
  // Supabase hands the function the path without /functions/v1.
  url.pathname = url.pathname.slice("/functions/v1".length);
  return fetchHandler(new Request(url, request));
};

let server: Deno.HttpServer;
try {
  server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handler);
} catch (error) {
  portInUse(error);
}

console.log(
  JSON.stringify({
    msg: "gateway listening",
    url: `http://127.0.0.1:${port}/functions/v1`,
    functions: [...handlers.keys()],
  }),
);

if (watch) {
  const root = new URL("../", import.meta.url).pathname;
  const watcher = Deno.watchFs([`${root}supabase/functions`, `${root}tools`]);
  for await (const event of watcher) {
    if (event.kind === "access" || !event.paths.some((path) => /\.(ts|tsx|js|json|html|css)$/.test(path))) {
      continue;
    }
    console.log(
      JSON.stringify({
        msg: "files changed, restarting",
        paths: event.paths.map((p) => p.slice(root.length)),
      }),
    );
    watcher.close();
    await server.shutdown();
    Deno.exit(RESTART_STATUS);
  }
}
