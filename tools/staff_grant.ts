/**
 * Bootstrap (and break-glass) staff management from a shell with database credentials: sets a user's
 * role, typically the first admin, before anyone can use `/admin/staff`.
 *
 *   npm run staff:grant -- user_… admin|support|user [--db-url URL] [--operator NAME]
 *
 * `user` revokes. The change goes through private.set_staff_role() (the same rule as the API: never
 * the last admin; the user row is created when that person has not signed in yet) and is audited by
 * the role-change trigger with the actor `operator:<NAME>`: --operator, else the OS user running the
 * command. No personal data: a Clerk id, a role, an operator name (an email address is refused).
 * Target: --db-url, else SUPABASE_DB_URL (the local stack). On Supabase, the direct connection.
 */
import { parseArgs } from "node:util";
import { connect, maskUrl } from "./db_backup.ts";
import { fail } from "./settings.ts";

const USAGE = "usage: npm run staff:grant -- user_… admin|support|user [--db-url URL] [--operator NAME]";
const CLERK_USER_ID = /^user_[A-Za-z0-9]{1,64}$/;
const OPERATOR = /^[A-Za-z0-9._-]{1,64}$/;
const ROLES = ["admin", "support", "user"];

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { "db-url": { type: "string" }, operator: { type: "string" }, help: { type: "boolean" } },
  });
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`);
}
if (parsed.values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const [userId, role, ...extra] = parsed.positionals;
if (!userId || !role || extra.length > 0) fail(USAGE);
if (!CLERK_USER_ID.test(userId)) fail(`${userId} is not a Clerk user id (user_…)`);
if (!ROLES.includes(role)) fail(`the role must be one of ${ROLES.join(", ")}, not ${role}`);

const operator = parsed.values.operator ?? Deno.env.get("USER") ?? Deno.env.get("LOGNAME");
if (!operator) fail("name the operator with --operator NAME (no OS user was found)");
if (!OPERATOR.test(operator)) {
  fail(`--operator must be a plain name (letters, digits, . _ -), not ${operator}`);
}

const url = parsed.values["db-url"] || Deno.env.get("SUPABASE_DB_URL");
if (!url) fail(`give --db-url (or SUPABASE_DB_URL)\n${USAGE}`);
if (!/^postgres(ql)?:\/\//.test(url)) fail("the database URL must start with postgresql://");

const actor = `operator:${operator}`;
const sql = connect(url, "staff:grant");
try {
  const [row] = await sql.begin((tx) => [
    // The audit actor of a database session is the `actor` claim (audit.current_actor()).
    tx`select set_config('request.jwt.claims', ${JSON.stringify({ actor })}, true)`,
    tx`select user_id, role, previous_role from private.set_staff_role(${userId}, ${role})`,
  ]).then((results) => results[1]);
  const change = row.previous_role === row.role
    ? `already ${row.role}`
    : `${row.previous_role ?? "(new user row)"} -> ${row.role}`;
  console.log(`${row.user_id}: ${change} on ${maskUrl(url)}; audited as user.role.changed by ${actor}`);
} catch (error) {
  const problem = error as { message?: string; hint?: string; code?: string };
  if (problem.code === "42883") {
    fail("the database has no private.set_staff_role(): apply the migrations first");
  }
  fail(problem.message ?? String(error));
} finally {
  await sql.end({ timeout: 5 });
}
