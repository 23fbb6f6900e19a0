/**
 * OpenAPI 3.1 documents generated from the routes themselves, for every function. A route says
 * what it is with `documented({ summary, responses })` among its middlewares; its path and method
 * come from the Hono app (`app.routes`), its path, query and body schemas from the `validate()`
 * middlewares it already has (validation.ts marks them), and who may call it from where it is
 * mounted: the function's public and self-authenticated routes are named in its index.ts, every
 * other route sits behind the session check (and, in admin, the staff check). So a route cannot
 * be served undocumented or documented with another shape than it validates: the fuzz test reads
 * the api's route list from this document and fails for a route it does not name.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import { VALIDATES } from "./validation.ts";
import type { Validates } from "./validation.ts";

const DOCUMENTED = Symbol("openapi operation");

/** What the generator reads of an app: its route table (any Hono app, whatever its env). */
interface RouteTable {
  routes: readonly { method: string; path: string; handler: unknown }[];
}

/** A response: a zod schema (a JSON body), or a description (a problem for 4xx/5xx, no body otherwise). */
export type ResponseDoc = z.ZodType | string | {
  description: string;
  schema?: z.ZodType;
  headers?: string[];
};

export interface OperationDoc {
  summary: string;
  /** Responses besides the function's standard errors, by status. */
  responses: Record<number, ResponseDoc>;
  /** Request headers the route reads (e.g. If-Match). */
  headers?: { name: string; required: boolean }[];
  /**
   * The body of a route that reads it itself instead of through `validate("json", ...)` (the
   * webhook, which checks a signature over the raw bytes first).
   */
  body?: { description: string; schema: z.ZodType };
}

type Marked = MiddlewareHandler & { [DOCUMENTED]?: OperationDoc; [VALIDATES]?: Validates };

/** The route's documentation, as a middleware that does nothing but carry it. */
export function documented(operation: OperationDoc): MiddlewareHandler {
  const middleware: Marked = async (_c, next) => {
    await next();
  };
  middleware[DOCUMENTED] = operation;
  return middleware;
}

export interface DocumentOptions {
  title: string;
  description: string;
  /** Where the function is mounted in its app, e.g. `/api`. */
  basePath: string;
  serverUrl: string;
  /** Routes ("METHOD /fn/path") that answer without the session check. */
  publicRoutes?: readonly string[];
  /** Routes that check their own credentials, with the security requirement they accept. */
  selfAuthenticated?: Record<string, Record<string, string[]>[]>;
  /** Errors every session route may answer, besides the route's own (SESSION_ERRORS and these). */
  standardErrors?: Record<number, string>;
  /** Further schemes, for the public and self-authenticated routes. */
  securitySchemes?: Record<string, unknown>;
  /**
   * The one scheme every other route needs, the document's default requirement: CLERK_SESSION
   * unless the function checks something else in front of its routes (the webhook's signature).
   */
  sessionScheme?: Record<string, unknown>;
}

/** The Clerk session scheme every function accepts. */
export const CLERK_SESSION = {
  clerkSession: { type: "http", scheme: "bearer", bearerFormat: "Clerk session JWT (RS256)" },
};

/** What any route behind the session check may answer. */
export const SESSION_ERRORS: Record<number, string> = {
  400: "Invalid input (field details in `errors`)",
  401: "Missing or invalid Clerk session token",
  503: "The database, or Clerk's signing keys, are unavailable: retry after `Retry-After` seconds",
};

const PROBLEM = {
  type: "object",
  required: ["type", "title", "status"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    errors: {
      type: "array",
      items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
    },
  },
};

const json = (schema: z.ZodType) => ({
  "application/json": { schema: z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) },
});
const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

function response(status: number, doc: ResponseDoc) {
  if (doc instanceof z.ZodType) return { description: status === 201 ? "Created" : "OK", content: json(doc) };
  if (typeof doc === "string") return status >= 400 ? problem(doc) : { description: doc };
  return {
    description: doc.description,
    ...(doc.schema ? { content: json(doc.schema) } : {}),
    ...(doc.headers
      ? { headers: Object.fromEntries(doc.headers.map((name) => [name, { schema: { type: "string" } }])) }
      : {}),
  };
}

function parameters(schema: z.ZodType, location: "query" | "path") {
  const jsonSchema = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(jsonSchema.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === "path" || (jsonSchema.required?.includes(name) ?? false),
    schema: property,
  }));
}

/** The OpenAPI document of `app`'s routes. A route without `documented()` is an error at once. */
export function generateOpenApi(app: RouteTable, options: DocumentOptions) {
  const chains = new Map<string, { method: string; path: string; handlers: Marked[] }>();
  for (const route of app.routes) {
    // Internal routes of the shared frame (`/_db/stats`, only with DB_DEBUG_STATS) are no part of the API.
    if (route.method === "ALL" || /\/_/.test(route.path)) continue;
    const key = `${route.method} ${route.path}`;
    const chain = chains.get(key) ?? { method: route.method, path: route.path, handlers: [] };
    chain.handlers.push(route.handler as Marked);
    chains.set(key, chain);
  }
  const standardErrors = { ...SESSION_ERRORS, ...options.standardErrors };
  const sessionScheme = options.sessionScheme ?? CLERK_SESSION;
  const securitySchemes = { ...sessionScheme, ...options.securitySchemes };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, chain] of chains) {
    const operation = chain.handlers.map((handler) => handler[DOCUMENTED]).find((doc) => doc !== undefined);
    if (!operation) throw new Error(`${key} has no documented({ ... }) middleware`);
    const validators = chain.handlers.map((handler) => handler[VALIDATES]).filter((v) => v !== undefined);
    const schemaOf = (target: string) => validators.find((v) => v.target === target)?.schema;
    const path = (chain.path.slice(options.basePath.length) || "/").replace(/:([A-Za-z_]+)/g, "{$1}");
    const isPublic = options.publicRoutes?.includes(key) ?? false;
    const selfSecurity = options.selfAuthenticated?.[key];

    const params = schemaOf("param");
    const query = schemaOf("query");
    const body = schemaOf("json") ?? operation.body?.schema;
    const queryParameters = query ? parameters(query, "query") : [];
    const allParameters = [
      ...(params ? parameters(params, "path") : []),
      ...queryParameters,
      ...(operation.headers ?? []).map((header) => ({
        name: header.name,
        in: "header",
        required: header.required,
        schema: { type: "string" },
      })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, doc] of Object.entries(operation.responses)) {
      responses[status] = response(Number(status), doc);
    }
    if (!isPublic) {
      for (const [status, description] of Object.entries(standardErrors)) {
        responses[status] ??= problem(description);
      }
    }
    paths[path] ??= {};
    paths[path][chain.method.toLowerCase()] = {
      summary: operation.summary,
      ...(isPublic ? { security: [] } : selfSecurity ? { security: selfSecurity } : {}),
      ...(allParameters.length > 0 ? { parameters: allParameters } : {}),
      ...(body
        ? {
          requestBody: {
            required: true,
            ...(operation.body ? { description: operation.body.description } : {}),
            content: json(body),
          },
        }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: options.title, version: "1.0.0", description: options.description },
    servers: [{ url: options.serverUrl }],
    security: [Object.fromEntries(Object.keys(sessionScheme).map((name) => [name, []]))],
    components: { securitySchemes, schemas: { Problem: PROBLEM } },
    paths,
  };
}

/**
 * Serves GET /openapi.json on `router` (where the function's signed-in or public routes are), the
 * document of `app`, generated on first use per server URL (the routes do not change).
 */
export function serveOpenApi(
  // deno-lint-ignore no-explicit-any
  router: Hono<any>,
  app: RouteTable,
  options: Omit<DocumentOptions, "serverUrl">,
): void {
  const documents = new Map<string, unknown>();
  router.get(
    "/openapi.json",
    documented({
      summary: "This document (generated from the routes)",
      responses: { 200: "The OpenAPI document" },
    }),
    (c) => {
      const serverUrl = new URL(`/functions/v1${options.basePath}`, c.req.url).href;
      let document = documents.get(serverUrl);
      if (!document) documents.set(serverUrl, document = generateOpenApi(app, { ...options, serverUrl }));
      return c.json(document);
    },
  );
}
