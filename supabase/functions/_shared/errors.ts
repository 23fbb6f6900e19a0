/**
 * The one error mapping point. Every failure leaves a function as `application/problem+json`
 * (RFC 9457): type, title, status, detail, plus `errors` (field details) for validation failures.
 * Database errors are mapped by SQLSTATE; dependency failures become a retryable 503; anything
 * unexpected becomes a 500 whose body says nothing about internals (the log line has the cause).
 */
import { HTTPException } from "hono/http-exception";
import type { Context } from "hono";
import { z } from "zod";
import { errors as joseErrors } from "jose";

export interface FieldError {
  path: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

/** An error that already knows its HTTP meaning. Throw it from routes. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; type?: string } = {},
  ) {
    super(detail ?? title);
    this.name = "HttpError";
  }
}

export const notFound = (what = "resource") => new HttpError(404, "Not Found", `${what} not found`);
export const unauthorized = (detail = "a valid session token is required") =>
  new HttpError(401, "Unauthorized", detail, { headers: { "www-authenticate": 'Bearer realm="api"' } });
export const forbidden = (detail = "not allowed") => new HttpError(403, "Forbidden", detail);
export const badRequest = (detail: string, errors?: FieldError[]) =>
  new HttpError(400, "Bad Request", detail, { errors });

export function validationError(
  error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> },
): HttpError {
  const errors = error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
  return badRequest("the request is invalid", errors);
}

/** postgres.js connection-level error codes: the database could not be reached or went away. */
const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  // _shared/db.ts: refused while the database is away, or the per-transaction deadline expired.
  "DB_UNAVAILABLE",
  "DB_DEADLINE_EXCEEDED",
]);

interface PostgresLikeError {
  code?: string;
  severity?: string;
  constraint_name?: string;
  hint?: string;
  detail?: string;
  message: string;
}

function isPostgresError(error: unknown): error is PostgresLikeError & Error {
  return error instanceof Error && typeof (error as PostgresLikeError).code === "string";
}

const serviceUnavailable = (detail: string) =>
  new HttpError(503, "Service Unavailable", detail, { headers: { "retry-after": "1" } });

/**
 * Our own database functions raise `P0001` with `hint = 'http:<status>'` to name the response;
 * the message is written for the caller.
 */
function fromRaisedException(error: PostgresLikeError): HttpError | undefined {
  const match = /^http:(\d{3})$/.exec(error.hint ?? "");
  if (!match) return undefined;
  const status = Number(match[1]);
  return new HttpError(status, STATUS_TITLES[status] ?? "Error", error.message);
}

const STATUS_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  410: "Gone",
  412: "Precondition Failed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  428: "Precondition Required",
  429: "Too Many Requests",
  503: "Service Unavailable",
};

/**
 * Input the database itself refused. The edge checks these first (body.ts, validation.ts,
 * pagination.ts), so reaching here means a check is missing somewhere; it is still the caller's
 * input, never a 500.
 */
function fromRefusedInput(code: string): HttpError | undefined {
  switch (code) {
    case "22021": // character_not_in_repertoire: a NUL byte (or invalid UTF-8) in text
    case "22P05": // untranslatable_character: \u0000 in jsonb
      return badRequest("a text value contains a character the database cannot store (NUL)");
    case "22003": // numeric_value_out_of_range
      return new HttpError(422, "Unprocessable Content", "a number is out of range");
    case "22007": // invalid_datetime_format
    case "22008": // datetime_field_overflow
      return badRequest("a date or time is not a valid instant");
    case "54001": // statement_too_complex (stack depth limit exceeded)
      return badRequest("the input is nested too deeply");
  }
  return undefined;
}

/** Maps anything thrown to an HttpError. Unknown errors become a bare 500. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof HTTPException) {
    return new HttpError(error.status, STATUS_TITLES[error.status] ?? "Error", error.message || undefined);
  }
  if (error instanceof z.ZodError) return validationError(error);
  if (error instanceof joseErrors.JOSEError) return unauthorized("the session token is not valid");
  // No SyntaxError mapping: bodies are parsed in body.ts, which throws its own 400; a SyntaxError
  // from anywhere else is a bug and a 500.
  if (isPostgresError(error)) {
    if (CONNECTION_ERROR_CODES.has(error.code!)) return serviceUnavailable("the database is unavailable");
    const refused = fromRefusedInput(error.code!);
    if (refused) return refused;
    switch (error.code) {
      case "23505":
        return new HttpError(409, "Conflict", "a conflicting record already exists");
      case "23503":
        return new HttpError(422, "Unprocessable Content", "a referenced record does not exist");
      case "23514":
      case "23502":
      case "22001":
      case "22P02":
      case "22023":
        return new HttpError(422, "Unprocessable Content", "a value is not allowed");
      case "42501":
        return new HttpError(403, "Forbidden", "not allowed");
      case "40001":
      case "40P01":
      case "55P03":
      case "57014":
        return serviceUnavailable("the request conflicted with concurrent work or timed out; retry");
      case "P0001": {
        const mapped = fromRaisedException(error);
        if (mapped) return mapped;
        break;
      }
    }
    // Class 08 (connection), 53 (resources), 57P0x (shutdown, cannot connect now): retryable.
    if (/^(08|53|57P0)/.test(error.code!)) return serviceUnavailable("the database is unavailable");
  }
  return new HttpError(500, "Internal Server Error");
}

export function problemResponse(c: Context, error: HttpError): Response {
  const body: Problem = {
    type: error.extra.type ?? "about:blank",
    title: error.title,
    status: error.status,
    ...(error.detail ? { detail: error.detail } : {}),
    ...(error.extra.errors ? { errors: error.extra.errors } : {}),
  };
  for (const [name, value] of Object.entries(error.extra.headers ?? {})) c.header(name, value);
  c.header("content-type", "application/problem+json");
  return c.body(JSON.stringify(body), error.status as 400);
}
