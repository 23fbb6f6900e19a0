/**
 * timestamptz values as the ISO 8601 strings the API has always sent, read without a Date.
 *
 * postgres.js parses timestamptz into a `Date`, and every response then turns it back into text
 * through `Date.prototype.toJSON`. A CPU profile of `GET /projects` (20 projects, three timestamps
 * each: docs/PERFORMANCE.md, "Timestamps") found that round trip to be the largest single cost of
 * the request in the function: `JSON.stringify` of the page took ~173 us with Dates and ~25 us
 * with the same values as strings, besides ~1 us per `new Date(text)` while reading the rows.
 * The generated database types (`database.types.ts`) already say these columns are strings.
 *
 * `parseTimestamptz` returns exactly what `new Date(text).toISOString()` returns for the text
 * Postgres sends in a UTC session (DateStyle ISO, Supabase's default time zone):
 * `2026-12-02 02:05:56.608123+00` -> `2026-12-02T02:05:56.608Z` (milliseconds, truncated, as Date
 * keeps them), for every year from 100 to 9999; years 1-99 are now those years (Date's parser read
 * `0099-...` as 1999). Anything else (another offset, a year past 9999, BC) goes through Date as before;
 * `infinity` and other values Date cannot hold are null, which is what JSON made of them before.
 */
const UTC_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

export function parseTimestamptz(text: string): string | null {
  const utc = UTC_TEXT.exec(text);
  if (utc) {
    // Milliseconds: the first three fraction digits, zero-filled (Date truncates, never rounds).
    return `${utc[1]}T${utc[2]}.${(utc[3] ?? "").padEnd(3, "0").slice(0, 3)}Z`;
  }
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** postgres.js type entry for timestamptz (OID 1184): read as text, written as before. */
export const timestamptzAsText = {
  to: 1184,
  from: [1184],
  // postgres.js's own serializer for this OID, unchanged: parameters are written as they were.
  serialize: (value: unknown) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parse: parseTimestamptz,
};
