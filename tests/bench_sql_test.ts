/**
 * bench/pgbench/tab_sync.sql is a copy of the tab sync's statements (pgbench cannot call
 * TypeScript), so `npm run bench:tab-floor` measures what the API sends only while the copy matches
 * supabase/functions/api/repositories/tabs.ts. This compares the two texts with their parameters
 * (`${...}` there, pgbench's `:name` and the bench user's literal here), casts on parameters,
 * comments and whitespace set aside.
 */
import { assertEquals } from "@std/assert";

const ROOT = new URL("../", import.meta.url);
const repository = await Deno.readTextFile(new URL("supabase/functions/api/repositories/tabs.ts", ROOT));
const pgbench = await Deno.readTextFile(new URL("bench/pgbench/tab_sync.sql", ROOT));

/** Parameters as `?`, without a cast right after them; no comments; single spaces. */
function normalized(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, "")
    .replace(/\$\{[^}]*\}|(?<!:):[a-z]+|'user_tabfloor'/g, "?")
    .replace(/\?::[a-z]+/g, "?")
    .replace(/\s+/g, " ")
    .trim();
}

/** The template literal assigned to `const <name> = tx...\`` in tabs.ts's replaceTabs. */
function repositoryStatement(name: string): string {
  const start = repository.indexOf(`const ${name} = tx`);
  const open = repository.indexOf("`", start);
  const close = repository.indexOf("`;", open);
  if (start < 0 || open < 0 || close < 0) throw new Error(`replaceTabs has no statement \`${name}\``);
  const columns = /const TAB_COLUMNS = `([^`]*)`/.exec(repository)?.[1];
  if (!columns) throw new Error("tabs.ts has no TAB_COLUMNS");
  return repository.slice(open + 1, close).replace("${tx.unsafe(TAB_COLUMNS)}", columns);
}

/** The pgbench statement beginning with `prefix`, up to its semicolon. */
function pgbenchStatement(prefix: string): string {
  const start = pgbench.indexOf(prefix);
  if (start < 0) throw new Error(`tab_sync.sql has no statement beginning "${prefix}"`);
  return pgbench.slice(start, pgbench.indexOf(";", start));
}

Deno.test("the tab-sync floor bench sends the sync statement of replaceTabs", () => {
  assertEquals(normalized(pgbenchStatement("with bumped as (")), normalized(repositoryStatement("replace")));
});

Deno.test("the tab-sync floor bench reads the list back as replaceTabs does", () => {
  assertEquals(
    normalized(pgbenchStatement("select id, project_id,")),
    normalized(repositoryStatement("list")),
  );
});

Deno.test("the comparison sees a changed statement", () => {
  const changed = repositoryStatement("replace").replace("is distinct from", "<>");
  assertEquals(normalized(changed) === normalized(pgbenchStatement("with bumped as (")), false);
});
