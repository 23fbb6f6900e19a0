/**
 * Opaque keyset-pagination cursors: base64url of a small JSON array. Clients pass them back
 * untouched; anything that does not decode to the expected shape is a 400.
 */
import { badRequest } from "./errors.ts";

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(encoded: string): string {
  const base64 = encoded.replaceAll("-", "+").replaceAll("_", "/");
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

export function encodeCursor(values: readonly (string | number)[]): string {
  return toBase64Url(JSON.stringify(values));
}

/** Decodes a cursor whose parts must all be strings matching `patterns` (one per part). */
export function decodeCursor(cursor: string, patterns: readonly RegExp[]): string[] {
  try {
    const values = JSON.parse(fromBase64Url(cursor));
    if (
      Array.isArray(values) && values.length === patterns.length &&
      values.every((value, index) => typeof value === "string" && patterns[index].test(value))
    ) {
      return values;
    }
  } catch {
    // fall through
  }
  throw badRequest("the cursor is not valid", [{ path: "cursor", message: "not a cursor from this API" }]);
}

/** Splits a fetched `limit + 1` rows into the page and whether more follow. */
export function takePage<T>(rows: readonly T[], limit: number): { items: T[]; hasMore: boolean } {
  return { items: rows.slice(0, limit), hasMore: rows.length > limit };
}

export const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
export const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const INTEGER_TEXT = /^[0-9]{1,19}$/;
