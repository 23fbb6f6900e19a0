/**
 * Command-line options of a benchmark. tools/bench.sh hands the same arguments to every
 * benchmark, so each takes the options it knows and names (but ignores) the others' once all are
 * read (`ignoreTheRest`), instead of refusing them as the tools' strict parseArgs does.
 */
export function benchOptions(bench: string, given: readonly string[] = Deno.args) {
  const args = [...given];
  return {
    /** `--name <positive number>`, or the fallback; anything else stops the benchmark. */
    number(name: string, fallback: number): number {
      const index = args.indexOf(name);
      if (index < 0) return fallback;
      const value = Number(args.splice(index, 2)[1]);
      if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`);
      return value;
    },
    /** `--name <text>`, or undefined. */
    text(name: string): string | undefined {
      const index = args.indexOf(name);
      return index < 0 ? undefined : args.splice(index, 2)[1];
    },
    ignoreTheRest(): void {
      if (args.length > 0) console.error(`[bench:${bench}] ignoring arguments: ${args.join(" ")}`);
    },
  };
}
