/**
 * zod schemas every function shares: one definition each, so a cursor or an empty query is
 * checked alike everywhere (and documented alike in OpenAPI).
 */
import { z } from "zod";

/** An opaque keyset cursor as pagination.ts encodes it (base64url). */
export const Cursor = z.string().max(512).regex(/^[A-Za-z0-9_-]+$/, "not a cursor from this API");

/** No query parameters: a misspelt filter is a 400, not an ignored one. */
export const NoQuery = z.strictObject({});

/** A path with one `:id` that is a uuid. */
export const UuidIdParam = z.strictObject({ id: z.uuid({ message: "must be a uuid" }) });

// --- Response shapes ---------------------------------------------------------------------------

/** A JSON object of any shape (metadata, details, proofs). */
export const JsonObject = z.record(z.string(), z.unknown());

/** One page of a keyset-paginated list: the items and the cursor of the next page (null: no more). */
export const page = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });

/** A list answered at once: `{ data: [...] }`. */
export const list = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item) });

/** True when A and B name the same fields. */
export type SameFields<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false)
  : false;

/**
 * Compile-time checks (deno check) of each function's schemas.ts: `Holds<SameFields<z.output<typeof
 * Schema>, Row>>` fails `npm run check` when a response schema (and so the OpenAPI document) and
 * the row or shape its route answers with name different fields.
 */
export type Holds<T extends true> = T;
