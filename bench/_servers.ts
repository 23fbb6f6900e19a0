/**
 * The framework ceiling for bench/edge.ts: a bare `Deno.serve` and a bare hono app answering a
 * small JSON document on 127.0.0.1, nothing else (no logging, no middleware).
 *
 *   deno run --allow-net bench/_servers.ts --mode deno|hono --port <port>
 */
import { Hono } from "hono";

const args = Deno.args;
const mode = args[args.indexOf("--mode") + 1];
const port = Number(args[args.indexOf("--port") + 1]);
const document = { status: "ok" };

let handler: (request: Request) => Response | Promise<Response>;
if (mode === "deno") {
  handler = () => Response.json(document);
} else if (mode === "hono") {
  const app = new Hono();
  app.get("/health", (c) => c.json(document));
  handler = app.fetch;
} else {
  throw new Error("--mode deno|hono");
}
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => console.log("listening") }, handler);
