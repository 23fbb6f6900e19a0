/**
 * The one place request bodies are parsed, and the checks every value taken from a request gets
 * before anything else sees it.
 *
 * Why here and not in zod: some inputs break the machinery itself before a schema can say no.
 * - Nesting: `[[[[...]]]]` 29k deep fits in a 256 KiB body, and every recursive walk after
 *   JSON.parse (zod, JSON.stringify, postgres.js) then overflows the JS stack. The depth is
 *   measured on the raw text by a loop (no recursion), before JSON.parse.
 * - Text Postgres cannot store: a NUL character (`\u0000`) is refused by `text` (22021) and by
 *   `jsonb` (22P05), and an unpaired UTF-16 surrogate is not Unicode at all (it is silently
 *   replaced on the way to the database, or refused by jsonb). Every string and object key is
 *   checked, iteratively.
 * - Bytes that are not UTF-8, and a byte-order mark: JSON's encoding is UTF-8 without one (RFC 8259
 *   sec. 8.1). `c.req.text()` would quietly replace bad bytes with U+FFFD and drop the BOM, so the
 *   body is decoded strictly here instead (readBodyText) and such a body is a 400.
 * A body that is not JSON is a 400 raised here as an HttpError, so a SyntaxError thrown anywhere
 * else (a bug) stays a 500.
 */
import type { Context } from "hono";
import { badRequest, HttpError } from "./errors.ts";
import type { FieldError } from "./errors.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The request body as text, decoded strictly: invalid UTF-8 is a 400, a BOM is kept (and is not JSON). */
export async function readBodyText(c: Context): Promise<string> {
  const bytes = await c.req.arrayBuffer();
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw badRequest("the body is not valid UTF-8");
  }
}

/** Deepest array/object nesting accepted in a body: far beyond any real document, far below a stack. */
export const MAX_JSON_DEPTH = 64;

/** Returns the deepest nesting of arrays and objects in `text` (strings skipped), stopping past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
      continue;
    }
    if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (char === 0x5d || char === 0x7d) depth--;
  }
  return deepest;
}

/** Why a string cannot be stored, or undefined when it can. */
export function unstorableText(value: string): string | undefined {
  if (value.includes("\u0000")) return "must not contain a NUL character (\\u0000)";
  if (!value.isWellFormed()) return "must be valid Unicode (no unpaired surrogate)";
  return undefined;
}

/**
 * Every string and key in `value` that Postgres could not store, with its path. Iterative (an
 * explicit stack), so it cannot overflow whatever the shape; stops after a few findings.
 */
export function unstorableValues(value: unknown, root = ""): FieldError[] {
  const found: FieldError[] = [];
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0 && found.length < 5) {
    const [current, path] = stack.pop()!;
    if (typeof current === "string") {
      const problem = unstorableText(current);
      if (problem) found.push({ path: path || "(root)", message: problem });
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push([current[i], path ? `${path}.${i}` : String(i)]);
      }
    } else if (current !== null && typeof current === "object") {
      for (const [key, item] of Object.entries(current)) {
        const itemPath = path ? `${path}.${key}` : key;
        const problem = unstorableText(key);
        if (problem) found.push({ path: itemPath, message: `key ${problem}` });
        else stack.push([item, itemPath]);
      }
    }
  }
  return found;
}

/** Throws a 400 naming the fields when anything in `value` (query, params, body) cannot be stored. */
export function assertStorable(value: unknown, what: string): void {
  const problems = unstorableValues(value);
  if (problems.length > 0) throw badRequest(`the ${what} contains text that cannot be stored`, problems);
}

export interface ParseJsonOptions {
  /** What an empty (or all-whitespace) body means; by default it is not valid JSON. */
  empty?: unknown;
  /** Also refuse NUL characters and unpaired surrogates (default true). */
  storableText?: boolean;
}

/** Parses a JSON request body: 400 when it is not JSON, nested too deeply, or holds unstorable text. */
export function parseJsonBody(text: string, options: ParseJsonOptions = {}): unknown {
  if (options.empty !== undefined && text.trim() === "") return options.empty;
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new HttpError(400, "Bad Request", `the body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("the body is not valid JSON");
  }
  if (options.storableText !== false) assertStorable(value, "body");
  return value;
}
