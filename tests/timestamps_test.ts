/**
 * timestamptz is read as text (supabase/functions/_shared/timestamps.ts) and must come out exactly
 * as the Date the driver used to make would have been written to JSON: the API's bytes do not
 * change. Checked against Date itself for random instants and every fraction length, and against
 * the text a real Postgres sends, in a UTC session (the fast path) and in another time zone, with
 * the values Date cannot hold.
 */
import { assertEquals } from "@std/assert";
import fc from "fast-check";
import postgres from "postgres";
import { parseTimestamptz, timestamptzAsText } from "../supabase/functions/_shared/timestamps.ts";
import { DB_URL } from "./_support/env.ts";

/** What a response carried before: JSON of the Date postgres.js parsed (null when invalid). */
const before = (text: string) => JSON.parse(JSON.stringify({ at: new Date(text) })).at as string | null;

Deno.test("parseTimestamptz: years 1-99 are those years (Date's parser made 0099 into 1999)", () => {
  assertEquals(parseTimestamptz("0099-12-31 23:59:59.5+00"), "0099-12-31T23:59:59.500Z");
  assertEquals(before("0099-12-31 23:59:59.5+00"), "1999-12-31T23:59:59.500Z");
});

Deno.test("parseTimestamptz: Postgres's UTC text of any instant, any fraction length, as Date wrote it", () => {
  const instant = fc.date({
    min: new Date("0100-01-01T00:00:00Z"),
    max: new Date("9999-12-31T23:59:59Z"),
    noInvalidDate: true,
  });
  fc.assert(
    fc.property(
      instant,
      fc.integer({ min: 0, max: 999 }),
      fc.integer({ min: 0, max: 6 }),
      (date, micros, digits) => {
        const iso = date.toISOString();
        const fraction = (iso.slice(20, 23) + String(micros).padStart(3, "0")).slice(0, digits);
        const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}${digits ? `.${fraction}` : ""}+00`;
        assertEquals(parseTimestamptz(text), before(text), text);
      },
    ),
    { numRuns: 5000 },
  );
});

Deno.test({
  name: "timestamptz from a real Postgres: UTC and another time zone, infinity, BC, year 10000",
  sanitizeResources: false,
  fn: async () => {
    for (const timeZone of ["UTC", "Asia/Kolkata", "America/St_Johns"]) {
      const sql = postgres(DB_URL, { max: 1, onnotice: () => {}, connection: { TimeZone: timeZone } });
      const asText = postgres(DB_URL, {
        max: 1,
        onnotice: () => {},
        connection: { TimeZone: timeZone },
        types: { timestamptz: timestamptzAsText },
      });
      try {
        const query = `
          select timestamptz '1990-01-01 00:00:00+00' + random() * interval '60 years' as at
          from generate_series(1, 300)
          union all select date_trunc('second', now()) + n * interval '0.1 second' from generate_series(0, 9) n
          union all select unnest(array['infinity', '-infinity', '0044-03-15 12:00:00+00 BC',
                                        '10000-01-01 00:00:00+00', '2026-12-02 02:05:56.608999+00',
                                        '2026-12-02 02:05:56+00', '2026-12-02 02:05:56.6+00']::timestamptz[])`;
        const texts = await sql.unsafe(`select at::text as text from (${query}) t`);
        for (const { text } of texts) {
          assertEquals(parseTimestamptz(text), before(text), `${timeZone}: ${text}`);
        }
        // Through the driver with the type entry: strings where Date made strings, null where it made null.
        const [row] =
          await asText`select ${"2026-12-02T02:05:56.608Z"}::timestamptz as at, 'infinity'::timestamptz as inf,
                                          array['2026-01-01 00:00:00+00', '2026-01-02 03:04:05.5+00']::timestamptz[] as list`;
        assertEquals(row.at, "2026-12-02T02:05:56.608Z");
        assertEquals(row.inf, null);
        assertEquals(row.list, ["2026-01-01T00:00:00.000Z", "2026-01-02T03:04:05.500Z"]);
        // Parameters are written as before (Date or text).
        const [written] = await asText`select ${new Date(
          "2026-05-06T07:08:09.123Z",
        )}::timestamptz = '2026-05-06 07:08:09.123+00' as same`;
        assertEquals(written.same, true);
      } finally {
        await sql.end();
        await asText.end();
      }
    }
  },
});
