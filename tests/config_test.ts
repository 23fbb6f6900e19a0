/**
 * Unit tests of the database settings (supabase/functions/_shared/config.ts): which URL wins, the
 * pooler mode and prepared statements as two settings, the request deadline. No stack needed.
 */
import { assertEquals, assertThrows } from "@std/assert";
import { z } from "zod";
import {
  ConfigError,
  DatabaseSettings,
  loadConfig,
  poolerFromUrl,
  resolveDatabaseSettings,
} from "../supabase/functions/_shared/config.ts";

const DIRECT = "postgresql://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:5432/postgres";
const TRANSACTION_POOLER =
  "postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres";
const SESSION_POOLER =
  "postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres";

function settings(env: Record<string, string>) {
  return resolveDatabaseSettings(loadConfig(z.object(DatabaseSettings), env));
}

function problems(env: Record<string, string>): string[] {
  return assertThrows(() => settings(env), ConfigError).problems;
}

Deno.test("config: DB_URL wins over the platform's SUPABASE_DB_URL", () => {
  const resolved = settings({ DB_URL: TRANSACTION_POOLER, SUPABASE_DB_URL: DIRECT });
  assertEquals([resolved.url, resolved.urlSource], [TRANSACTION_POOLER, "DB_URL"]);
});

Deno.test("config: without DB_URL the direct SUPABASE_DB_URL is used", () => {
  const resolved = settings({ SUPABASE_DB_URL: DIRECT });
  assertEquals([resolved.url, resolved.urlSource], [DIRECT, "SUPABASE_DB_URL"]);
  assertEquals([resolved.pooler, resolved.poolerDerived, resolved.prepare], ["none", true, true]);
});

Deno.test("config: neither URL stops start-up naming the variables, never a value", () => {
  const [problem] = problems({});
  assertEquals(problem.startsWith("SUPABASE_DB_URL is required but not set"), true);
  assertEquals(problem.includes("DB_URL"), true);
  const malformed = problems({ DB_URL: "mysql://u:secret@h/db", SUPABASE_DB_URL: DIRECT });
  assertEquals(malformed.length, 1);
  assertEquals(malformed[0].startsWith("DB_URL:"), true);
  assertEquals(malformed[0].includes("secret"), false);
});

Deno.test("config: the pooler mode is derived from the URL when DB_POOLER is not set", () => {
  assertEquals(poolerFromUrl(TRANSACTION_POOLER), "transaction");
  assertEquals(
    poolerFromUrl("postgres://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:6543/postgres"),
    "transaction",
  );
  assertEquals(poolerFromUrl(SESSION_POOLER), "session");
  assertEquals(poolerFromUrl(DIRECT), "none");
  assertEquals(poolerFromUrl("postgresql://postgres:postgres@127.0.0.1:54322/postgres"), "none");
  assertEquals(poolerFromUrl("postgresql://postgres:postgres@localhost/postgres"), "none");
});

Deno.test("config: behind the transaction pooler prepared statements default off, elsewhere on", () => {
  const transaction = settings({ DB_URL: TRANSACTION_POOLER });
  assertEquals([transaction.pooler, transaction.prepare], ["transaction", false]);
  const session = settings({ DB_URL: SESSION_POOLER });
  assertEquals([session.pooler, session.prepare], ["session", true]);
});

Deno.test("config: DB_POOLER and DB_PREPARE are separate settings, each overriding its default", () => {
  // A transaction pooler on another port, named explicitly.
  const named = settings({ DB_URL: "postgresql://u:p@pgbouncer.internal:6432/db", DB_POOLER: "transaction" });
  assertEquals([named.pooler, named.poolerDerived, named.prepare], ["transaction", false, false]);
  // A pooler that keeps protocol-level prepared statements (PgBouncer >= 1.21): prepare stays on.
  const prepared = settings({ DB_URL: TRANSACTION_POOLER, DB_PREPARE: "true" });
  assertEquals([prepared.pooler, prepared.prepare], ["transaction", true]);
  // Prepared statements off on a direct connection: still per-connection timeouts (pooler none).
  const unprepared = settings({ SUPABASE_DB_URL: DIRECT, DB_PREPARE: "false" });
  assertEquals([unprepared.pooler, unprepared.prepare], ["none", false]);
  // Port 6543 that is not a pooler.
  const direct = settings({ DB_URL: "postgresql://u:p@10.0.0.5:6543/db", DB_POOLER: "none" });
  assertEquals([direct.pooler, direct.prepare], ["none", true]);
  assertEquals(
    problems({ SUPABASE_DB_URL: DIRECT, DB_POOLER: "pgbouncer" })[0].startsWith("DB_POOLER:"),
    true,
  );
  assertEquals(problems({ SUPABASE_DB_URL: DIRECT, DB_PREPARE: "yes" })[0].startsWith("DB_PREPARE:"), true);
});

Deno.test("config: the request deadline defaults past the statement timeout and must exceed it", () => {
  const defaults = settings({ SUPABASE_DB_URL: DIRECT });
  assertEquals(
    [defaults.poolSize, defaults.statementTimeoutMs, defaults.requestDeadlineMs, defaults.debugStats],
    [5, 5_000, 8_000, false],
  );
  const tuned = settings({
    SUPABASE_DB_URL: DIRECT,
    DB_STATEMENT_TIMEOUT_MS: "1500",
    DB_REQUEST_DEADLINE_MS: "3000",
  });
  assertEquals([tuned.statementTimeoutMs, tuned.requestDeadlineMs], [1_500, 3_000]);
  assertEquals(
    settings({ SUPABASE_DB_URL: DIRECT, DB_STATEMENT_TIMEOUT_MS: "2000" }).requestDeadlineMs,
    5_000,
  );
  const [problem] = problems({ SUPABASE_DB_URL: DIRECT, DB_REQUEST_DEADLINE_MS: "5000" });
  assertEquals(problem.startsWith("DB_REQUEST_DEADLINE_MS: must exceed DB_STATEMENT_TIMEOUT_MS"), true);
  assertEquals(settings({ SUPABASE_DB_URL: DIRECT, DB_DEBUG_STATS: "true" }).debugStats, true);
});
