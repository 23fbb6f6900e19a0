/**
 * A direct database connection for tests to arrange data and to check what changed, as the
 * migration owner (bypasses RLS). Never used by the code under test.
 */
import postgres from "postgres";
import { DB_URL } from "./env.ts";

export const adminSql = postgres(DB_URL, { max: 4, onnotice: () => {}, idle_timeout: 5 });

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
