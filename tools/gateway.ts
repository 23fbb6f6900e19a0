/**
 * Local gateway: serves every function in supabase/functions at
 * http://127.0.0.1:<port>/functions/v1/<name>/..., the path layout of Supabase's edge gateway,
 * and the dev issuer's JWKS at /clerk/.well-known/jwks.json. Stands in for
 * `supabase functions serve`, which needs Docker.
 *
 * and the console's sign-in stand-in at /clerk/dev/sign-in (docs/CONSOLE.md).
 *
 *   bash tools/run.sh deno run -A tools/gateway.ts [--port <port>] [--watch] [--parallel <n>]
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
 *
 * --parallel <n> (a number, or `cores` for one per core) serves the port from n processes with SO_REUSEPORT,
 * the kernel spreading connections across them, the way the platform runs many isolates of a
 * function (`deno serve --parallel` does the same with workers; it needs a default-export module,
 * which the gateway's start-up checks are not): this process checks the port and the
 * configuration, then starts n copies with --reuse-port and ends them when it ends. Each copy
 * has its own database pool (DB_POOL_SIZE each).
 */
import { DEV_SIGN_IN_PATH, devJwks, devKey, devSignIn } from "./dev_issuer.ts";
import { developmentEnvironment, devIssuer } from "./dev_env.ts";
import { commandLine, fail, portOption } from "./settings.ts";
import { ConfigError } from "../supabase/functions/_shared/config.ts";

/** Exit status asking tools/dev.sh to start the gateway again (EX_TEMPFAIL). */
export const RESTART_STATUS = 75;

const { values: options } = commandLine({
  port: { type: "string" },
  watch: { type: "boolean" },
  parallel: { type: "string" },
  "reuse-port": { type: "boolean" },
});
const watch = options.watch === true;
/** Started by a --parallel gateway: share the port, skip the in-use probe. */
const reusePortChild = options["reuse-port"] === true;
let parallel = 1;
if (options.parallel !== undefined) {
  const given = options.parallel;
  parallel = given === "cores" ? navigator.hardwareConcurrency : /^\d+$/.test(given) ? Number(given) : NaN;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) {
    fail(`--parallel ${given} is not 1..64 or cores`);
  }
}
if (watch && parallel > 1) fail("--watch and --parallel do not go together");
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
if (!reusePortChild) {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch (error) {
    portInUse(error);
  }
}

/** The environment as given, for the --parallel copies (before the development defaults). */
const initialEnvironment = Deno.env.toObject();
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
  return fetchHandler(withUrl(request, url.href));
};

/**
 * The request as the function sees it: the same Request, only its `url` differs. A view rather
 * than `new Request(url, request)`, which copies the headers and wraps the body stream on every
 * request (a tenth of a cheap request's CPU here, work the platform's gateway does outside the
 * function's isolate). Methods run on the original, so body reads and brand checks behave as ever.
 */
function withUrl(request: Request, url: string): Request {
  return new Proxy(request, {
    get(target, property) {
      if (property === "url") return url;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

if (parallel > 1) {
  // This process has checked the port and every function's configuration; it serves nothing
  // itself. The copies (SO_REUSEPORT needs --unstable-net) inherit the environment as it was
  // given, fill the development environment themselves and end with this process.
  const copies = Array.from({ length: parallel }, () =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-net",
        new URL(import.meta.url).pathname,
        "--port",
        String(port),
        "--reuse-port",
      ],
      env: initialEnvironment,
      clearEnv: true,
      stdin: "null",
    }).spawn());
  const stopCopies = () => {
    for (const copy of copies) {
      try {
        copy.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      stopCopies();
      Deno.exit(0);
    });
  }
  console.log(
    JSON.stringify({
      msg: "gateway listening",
      url: `http://127.0.0.1:${port}/functions/v1`,
      functions: [...handlers.keys()],
      processes: parallel,
    }),
  );
  // A copy that exits ends the whole gateway: a port half served is worse than none.
  const [exited] = await Promise.race(
    copies.map((copy, index) => copy.status.then((status) => [index, status] as const)),
  );
  stopCopies();
  fail(`copy ${exited + 1} of the --parallel gateway exited`);
}

if (reusePortChild) {
  // A copy outlives nothing: when the process that started it is gone (even killed), it ends too.
  const parent = Deno.ppid;
  Deno.unrefTimer(setInterval(() => Deno.ppid !== parent && Deno.exit(0), 500));
}

let server: Deno.HttpServer;
try {
  server = Deno.serve(
    { hostname: "127.0.0.1", port, reusePort: reusePortChild, onListen: () => {} },
    handler,
  );
} catch (error) {
  portInUse(error);
}

// Ends through Deno.exit on SIGINT/SIGTERM, so `deno run --cpu-prof` writes its profile.
for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => Deno.exit(0));

if (!reusePortChild) {
  console.log(
    JSON.stringify({
      msg: "gateway listening",
      url: `http://127.0.0.1:${port}/functions/v1`,
      functions: [...handlers.keys()],
    }),
  );
}

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
