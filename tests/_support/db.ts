/**
 * A direct database connection for tests to arrange data and to check what changed, as the
 * migration owner (bypasses RLS). Never used by the code under test.
 */
import postgres from "postgres";
import { DB_URL } from "./env.ts";

export const adminSql = postgres(DB_URL, { max: 4, onnotice: () => {}, idle_timeout: 5 });
// Closed after the last test of the file that imported it (each test file runs in its own worker).
Deno.test.afterAll(async () => {
  await adminSql.end({ timeout: 1 });
});

/**
 * Waits until some backend waits for a lock that backend `pid` holds (pg_stat_activity
 * wait_event_type = 'Lock', pg_blocking_pids); returns its pid. The proof that a statement is
 * blocked, instead of a sleep after which it has merely not finished yet.
 */
export async function waitUntilBlockedBy(pid: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const [waiter] = await adminSql<{ pid: number }[]>`
      select a.pid from pg_catalog.pg_stat_activity a
      where a.wait_event_type = 'Lock' and ${pid}::int = any (pg_catalog.pg_blocking_pids(a.pid))
      limit 1`;
    if (waiter) return waiter.pid;
    if (Date.now() > deadline) {
      throw new Error(`no backend waited for a lock of backend ${pid} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A Clerk-shaped user id unique to this test run. */
export function randomUserId(prefix = "t"): string {
  return `user_${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
}

/** Inserts a user row directly (as if Clerk's webhook had created it). */
export async function createUser(role: "user" | "support" | "admin" = "user", prefix = "t"): Promise<string> {
  const id = randomUserId(prefix);
  await adminSql`insert into public.users (id, role) values (${id}, ${role})`;
  return id;
}
