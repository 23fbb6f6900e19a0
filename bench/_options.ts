/**
 * Command-line options of a benchmark, read with node:util `parseArgs`. tools/bench.sh hands the
 * same arguments to every benchmark, so each takes the options it knows and names (but ignores)
 * the others' once all are read (`ignoreTheRest`), instead of refusing them as the tools' strict
 * `commandLine` does (tools/settings.ts): parseArgs runs with `strict: false`, the options read so
 * far declared as strings. `--name value` and `--name=value` both work.
 */
import { parseArgs } from "node:util";

/** What a number option accepts: `positive` (> 0, the default), `non-negative` (>= 0), `positive integer`. */
export type NumberKind = "positive" | "non-negative" | "positive integer";

const accepts: Record<NumberKind, (value: number) => boolean> = {
  "positive": (value) => Number.isFinite(value) && value > 0,
  "non-negative": (value) => Number.isFinite(value) && value >= 0,
  "positive integer": (value) => Number.isInteger(value) && value > 0,
};

export function benchOptions(bench: string, given: readonly string[] = Deno.args) {
  const args = [...given];
  /** Option names read so far, without the dashes. */
  const known = new Set<string>();
  const parse = () =>
    parseArgs({
      args,
      options: Object.fromEntries([...known].map((name) => [name, { type: "string" as const }])),
      strict: false,
      allowPositionals: true,
      tokens: true,
    });

  /** `--name <text>`, or undefined; `--name` without a value stops the benchmark. */
  function text(name: string): string | undefined {
    const key = name.replace(/^--/, "");
    known.add(key);
    const value = parse().values[key];
    if (value === undefined || typeof value === "string") return value;
    throw new Error(`${name} needs a value`);
  }

  return {
    /** `--name <number>` of the kind given (positive by default), or the fallback; anything else stops the benchmark. */
    number(name: string, fallback: number, kind: NumberKind = "positive"): number {
      const given = text(name);
      if (given === undefined) return fallback;
      const value = Number(given);
      if (given.trim() === "" || !accepts[kind](value)) {
        throw new Error(`${name} needs a ${kind === "positive integer" ? kind : `${kind} number`}`);
      }
      return value;
    },
    text,
    /** Names, on stderr, every argument no option read so far took. */
    ignoreTheRest(): void {
      const taken = new Set<number>();
      for (const token of parse().tokens ?? []) {
        if (token.kind !== "option" || !known.has(token.name)) continue;
        taken.add(token.index);
        if (token.value !== undefined && !token.inlineValue) taken.add(token.index + 1);
      }
      const rest = args.filter((_, index) => !taken.has(index));
      if (rest.length > 0) console.error(`[bench:${bench}] ignoring arguments: ${rest.join(" ")}`);
    },
  };
}
