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

/** Echoes a well-formed `x-request-id` or makes one. */
const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const id = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", id);
  c.header("x-request-id", id);
  await runWithRequestId(id, next);
};

function accessLog(functionName: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
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
 * An error that escapes every request (postgres.js can throw from a socket timer when the
 * database drops a connection mid-write) must not take the whole isolate down with every request
 * in flight: log it and keep serving. Requests themselves already fail through onError.
 */
function installProcessGuards(functionName: string): void {
  if (processGuardsInstalled) return;
  processGuardsInstalled = true;
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    log.error("uncaught error", { function: functionName, ...describeError(event.error) });
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error("unhandled rejection", { function: functionName, ...describeError(event.reason) });
  });
}

/** A Hono app mounted at `/<functionName>` (the path Supabase gives the function) with the shared frame. */
export function createFunctionApp(functionName: string, options: AppOptions): Hono<AppEnv> {
  installProcessGuards(functionName);
  const app = new Hono<AppEnv>().basePath(`/${functionName}`);
  app.use("*", requestId);
  app.use("*", accessLog(functionName));
  if (options.corsOrigins.length > 0) {
    app.use(
      "*",
      cors({
        origin: options.corsOrigins,
        allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allowHeaders: [
          "authorization",
          "content-type",
          "if-match",
          "x-request-id",
          "x-client-info",
          "apikey",
        ],
        exposeHeaders: ["etag", "x-request-id", "retry-after"],
        maxAge: 600,
      }),
    );
  }
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
