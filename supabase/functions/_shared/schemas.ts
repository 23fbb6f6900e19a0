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
