/**
 * `npm run db:types`: regenerates supabase/functions/_shared/database.types.ts from the database
 * (SUPABASE_DB_URL, the local cluster on PG_PORT by default) with `supabase gen types typescript`.
 *
 * The CLI may print notices on stdout with the types (for example `│` and `▲  Connected to
 * 127.0.0.1 without TLS...` before them); `typescriptOnly` keeps the TypeScript alone. The drift
 * check in tests/migrations_test.ts compares through the same function.
 */
import { dbUrl, fail } from "./settings.ts";

const ROOT = new URL("../", import.meta.url).pathname;
export const TYPES_FILE = `${ROOT}supabase/functions/_shared/database.types.ts`;

/**
 * The TypeScript of `supabase gen types` output: everything from the first line that starts with
 * `export ` (the generated file's first declaration), without the CLI's notice lines (they start
 * with box-drawing or status glyphs, which no line of the generated TypeScript does).
 */
export function typescriptOnly(output: string): string {
  const lines = output.split("\n");
  const first = lines.findIndex((line) => line.startsWith("export "));
  if (first < 0) return "";
  const kept = lines.slice(first).filter((line) => !/^\s*[│┌└├◇◆●▲■⚠✔✖]/u.test(line));
  return `${kept.join("\n").trim()}\n`;
}

/** `supabase gen types typescript` for the public schema of `url`, TypeScript only. */
export async function generateTypes(url: string): Promise<string> {
  const output = await new Deno.Command("supabase", {
    args: ["gen", "types", "typescript", "--db-url", url, "--schema", "public"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const types = typescriptOnly(stdout);
  if (!output.success || !types) {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1) ?? "";
    throw new Error(`supabase gen types failed: ${stderr || stdout.trim().split("\n").at(-1)}`);
  }
  return types;
}

if (import.meta.main) {
  try {
    const types = await generateTypes(dbUrl());
    await Deno.writeTextFile(TYPES_FILE, types);
    console.error(
      `[db_types] wrote supabase/functions/_shared/database.types.ts (${types.split("\n").length} lines)`,
    );
  } catch (error) {
    fail((error as Error).message);
  }
}
