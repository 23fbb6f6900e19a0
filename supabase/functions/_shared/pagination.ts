/**
 * Opaque keyset-pagination cursors: base64url of a small JSON array of strings. Clients pass them
 * back untouched; anything that does not decode into real values of the expected kinds is a 400.
 *
 * Decoding validates each part into a real value, because the parts go to Postgres:
 * - instants are checked against the calendar (no month 13, 30 February or hour 99) and then
 *   travel as TEXT, cast in SQL (`${at}::text::timestamptz`). Never as a `::timestamptz`
 *   parameter: postgres.js serialises those through `new Date(...)`, which cuts microseconds
 *   (rows sharing a millisecond get skipped) and throws on an impossible date inside its protocol
 *   handler (with prepared statements the connection then falls out of step);
 * - integers must fit a Postgres bigint (`9999999999999999999` does not: 22003);
 * - uuids must be uuids.
 * The API writes instants as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (repositories format them with
 * to_char at full precision), independent of the session's DateStyle and TimeZone.
 */
import { badRequest } from "./errors.ts";

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(encoded: string): string {
  const base64 = encoded.replaceAll("-", "+").replaceAll("_", "/");
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

export function encodeCursor(values: readonly (string | number)[]): string {
  return toBase64Url(JSON.stringify(values));
}

/** Validates one part of a cursor; returns the value to hand to SQL, or undefined when invalid. */
export type CursorPart = (value: string) => string | undefined;

/** Decodes a cursor whose parts are strings accepted by `parts` (one per part). */
export function decodeCursor(cursor: string, parts: readonly CursorPart[]): string[] {
  let values: unknown;
  try {
    if (cursor.length > 512) throw new Error("too long");
    values = JSON.parse(fromBase64Url(cursor));
  } catch {
    values = undefined;
  }
  if (Array.isArray(values) && values.length === parts.length) {
    const decoded = values.map((value, index) => typeof value === "string" ? parts[index](value) : undefined);
    if (decoded.every((value) => value !== undefined)) return decoded as string[];
  }
  throw badRequest("the cursor is not valid", [{ path: "cursor", message: "not a cursor from this API" }]);
}

/** Splits a fetched `limit + 1` rows into the page and whether more follow. */
export function takePage<T>(rows: readonly T[], limit: number): { items: T[]; hasMore: boolean } {
  return { items: rows.slice(0, limit), hasMore: rows.length > limit };
}

// --- Instants ----------------------------------------------------------------------------------

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2})(?::?(\d{2}))?)$/;

/**
 * True when `text` is an ISO 8601 / Postgres-style date-time with an explicit offset that names a
 * real instant: years 0001-9999, a day that exists in its month, hours 00-23, minutes and seconds
 * 00-59, an offset within ±15:59 (what Postgres accepts).
 */
export function isRealInstant(text: string): boolean {
  const match = INSTANT.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = match.slice(1).map((part) =>
    Number(part ?? 0)
  );
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month, 0);
  if (day > lastDay.getUTCDate()) return false;
  return hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 15 && offsetMinutes <= 59;
}

/** The cursor format the API writes: microseconds, UTC. */
const CURSOR_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
/** Cursors written before: Postgres `timestamptz::text` (still accepted so paging survives a deploy). */
const LEGACY_CURSOR_INSTANT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/** A timestamp part: a real instant, handed to SQL as text (cast there with `::text::timestamptz`). */
export const instantPart: CursorPart = (value) =>
  (CURSOR_INSTANT.test(value) || LEGACY_CURSOR_INSTANT.test(value)) && isRealInstant(value)
    ? value
    : undefined;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A uuid part (lowercase, as Postgres writes them). */
export const uuidPart: CursorPart = (value) => UUID.test(value) ? value : undefined;

const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** A positive integer part that fits a Postgres bigint (ids), without leading zeros. */
export const bigintPart: CursorPart = (value) =>
  /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= MAX_BIGINT ? value : undefined;
