/**
 * The frame every function shares: request id, one log line per request, CORS, body size limit,
 * JSON-only bodies, and the single error mapping point (errors.ts) wired as onError/notFound.
 */
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { describeError, log } from "./log.ts";
import { HttpError, problemResponse, toHttpError } from "./errors.ts";
import { runWithRequestId } from "./request_context.ts";
import { countRequest } from "./signals.ts";
import {
  databaseDebugStatsEnabled,
  databaseStats,
  isDatabaseDriverError,
  replaceDatabasePool,
} from "./db.ts";

export interface AppVariables {
  requestId: string;
  /** Who made the request, for the log line: a Clerk user id or an automation name. */
  actor?: string;
}

export type AppEnv = { Variables: AppVariables };

export interface AppOptions {
  corsOrigins: string[];
  maxBodyBytes: number;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Echoes a well-formed `x-request-id` or makes one. The header goes onto the final response (the
 * route's, the error mapping's, the preflight's) once it exists: a header set before the route
 * answers makes hono build a placeholder response and copy its headers over (docs/PERFORMANCE.md).
 */
const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const id = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", id);
  await runWithRequestId(id, next);
  c.res.headers.set("x-request-id", id);
};

function accessLog(functionName: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    // The one signal hook of the hot path: a Map increment (signals.ts flushes it later).
    countRequest(functionName, c.res.status);
    log.info("request", {
      request_id: c.get("requestId"),
      function: functionName,
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      actor: c.get("actor"),
    });
  };
}

const CORS_EXPOSE_HEADERS = ["etag", "x-request-id", "retry-after"];

/**
 * CORS with hono's middleware for preflights, and for every other request the same three headers
 * hono's would add (Access-Control-Allow-Origin for an allowed origin, Access-Control-Expose-Headers,
 * Vary: Origin), set on the final response after the route instead of before it: hono's sets
 * them on a placeholder response whose headers are then copied onto the route's (a third of the
 * frame's cost per request, docs/PERFORMANCE.md).
 */
function corsFor(origins: string[]): MiddlewareHandler<AppEnv> {
  const preflight = cors({
    origin: origins,
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowHeaders: [
      "authorization",
      "content-type",
      "if-match",
      "x-request-id",
      "x-client-info",
      "apikey",
    ],
    exposeHeaders: CORS_EXPOSE_HEADERS,
    maxAge: 600,
  });
  const expose = CORS_EXPOSE_HEADERS.join(",");
  return async (c, next) => {
    if (c.req.method === "OPTIONS") return await preflight(c, next);
    const origin = c.req.header("origin") ?? "";
    await next();
    const headers = c.res.headers;
    if (origins.includes(origin)) headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Access-Control-Expose-Headers", expose);
    headers.append("Vary", "Origin");
  };
}

/** Bodies are JSON or nothing: anything else is a 415 before a route parses it. */
const jsonBodiesOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  const hasBody = c.req.header("content-length") !== undefined && c.req.header("content-length") !== "0" ||
    c.req.header("transfer-encoding") !== undefined;
  if (hasBody && ["POST", "PUT", "PATCH"].includes(c.req.method)) {
    const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/json") {
      throw new HttpError(415, "Unsupported Media Type", "the body must be application/json");
    }
  }
  await next();
};

export function onError(functionName: string) {
  return (error: unknown, c: Context<AppEnv>): Response => {
    const mapped = toHttpError(error);
    if (mapped.status >= 500) {
      log.error("request failed", {
        request_id: c.get("requestId"),
        function: functionName,
        route: c.req.routePath,
        status: mapped.status,
        ...describeError(error),
      });
    }
    return problemResponse(c, mapped);
  };
}

let processGuardsInstalled = false;

/**
 * What an error that escapes every request does to the isolate (docs/ARCHITECTURE.md, "What a caller
 * sees during an outage"):
 * - thrown inside postgres.js (its files in the stack): contained. The driver's state is unknown, so
 *   the pool is replaced (`replaceDatabasePool`: the old one is ended and then destroyed, in-flight
 *   transactions are cut off by their deadline) and the isolate keeps serving with a fresh pool;
 * - any other uncaught error: the isolate fails. The default is not prevented, so Deno ends the
 *   process (on Supabase the worker ends and the next request starts a fresh one); nothing here can
 *   say what the interrupted code left half done;
 * - an unhandled rejection: logged and the isolate keeps serving (a promise nobody awaited leaves no
 *   work half done); from postgres.js it also replaces the pool.
 */
function installProcessGuards(functionName: string): void {
  if (processGuardsInstalled) return;
  processGuardsInstalled = true;
  globalThis.addEventListener("error", (event) => {
    if (isDatabaseDriverError(event.error)) {
      event.preventDefault();
      replaceDatabasePool("uncaught error in the database driver");
      log.error("uncaught error in the database driver: pool replaced", {
        function: functionName,
        ...describeError(event.error),
      });
      return;
    }
    log.error("uncaught error: ending the isolate", {
      function: functionName,
      ...describeError(event.error),
    });
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    const driver = isDatabaseDriverError(event.reason);
    if (driver) replaceDatabasePool("unhandled rejection in the database driver");
    log.error(driver ? "unhandled rejection in the database driver: pool replaced" : "unhandled rejection", {
      function: functionName,
      ...describeError(event.reason),
    });
  });
}

/** A Hono app mounted at `/<functionName>` (the path Supabase gives the function) with the shared frame. */
export function createFunctionApp(functionName: string, options: AppOptions): Hono<AppEnv> {
  installProcessGuards(functionName);
  const app = new Hono<AppEnv>().basePath(`/${functionName}`);
  app.use("*", requestId);
  app.use("*", accessLog(functionName));
  if (options.corsOrigins.length > 0) app.use("*", corsFor(options.corsOrigins));
  app.use(
    "*",
    bodyLimit({
      maxSize: options.maxBodyBytes,
      onError: () => {
        throw new HttpError(413, "Content Too Large", `the body exceeds ${options.maxBodyBytes} bytes`);
      },
    }),
  );
  app.use("*", jsonBodiesOnly);
  // Pool counters for the fault test and local diagnosis; absent unless DB_DEBUG_STATS=true.
  if (databaseDebugStatsEnabled()) app.get("/_db/stats", (c) => c.json(databaseStats()));
  app.onError(onError(functionName));
  app.notFound((c) => problemResponse(c, new HttpError(404, "Not Found", "no such route")));
  return app;
}

/**
 * Serves the app, unless the local gateway (tools/gateway.ts) imported it to serve several
 * functions in one process. On Supabase every function is its own isolate and serves itself.
 */
export function serve(app: Hono<AppEnv>): void {
  if (Deno.env.get("EDGE_FUNCTIONS_EMBEDDED") === "1") return;
  Deno.serve(app.fetch);
}
