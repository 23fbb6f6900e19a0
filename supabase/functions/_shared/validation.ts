/**
 * zod validation for hono routes, reporting failures through the one error mapping point.
 *
 * Before the schema runs, the raw input gets the checks of body.ts: a JSON body is parsed there
 * (syntax, nesting depth, text Postgres can store), and query strings and path parameters are
 * checked for NUL characters and unpaired surrogates, so no schema has to remember them.
 */
import { zValidator } from "@hono/zod-validator";
import type { Context, MiddlewareHandler, Next, ValidationTargets } from "hono";
import type { z } from "zod";
import { validationError } from "./errors.ts";
import { assertStorable, parseJsonBody, readBodyText } from "./body.ts";

/** The media types hono's validator reads as JSON (it validates `{}` for a request without one). */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Parses the body once, with our checks, and leaves the result where hono's validator (and
 * `c.req.json()`) read it, so hono never calls JSON.parse on the raw text itself.
 */
async function preparseJson(c: Context): Promise<void> {
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0].trim();
  if (!JSON_MEDIA_TYPE.test(mediaType)) return;
  const value = parseJsonBody(await readBodyText(c));
  c.req.bodyCache.json = Promise.resolve(value);
}

/** Marks a validate() middleware with what it checks, so openapi.ts documents the route from it. */
export const VALIDATES = Symbol("validates");
export interface Validates {
  target: keyof ValidationTargets;
  schema: z.ZodType;
}

/** Like `zValidator`, but a failure throws our 400 problem with field details. */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) {
  const inner = zValidator(target, schema, (result) => {
    if (!result.success) throw validationError(result.error);
  });
  const checked: MiddlewareHandler = async (c: Context, next: Next) => {
    if (target === "json") await preparseJson(c);
    else if (target === "query") assertStorable(c.req.queries(), "query");
    else if (target === "param") assertStorable(c.req.param(), "path");
    return inner(c, next);
  };
  (checked as MiddlewareHandler & { [VALIDATES]?: Validates })[VALIDATES] = { target, schema };
  return checked as typeof inner;
}
