/**
 * Reads the JUnit report of `deno test --junit-path` for tools/test.sh, instead of scraping the
 * console's coloured summary. Counts as that summary does: test cases, not their steps (Deno
 * reports a step as a test case named `<test> > <step>`).
 *
 *   deno run --allow-read tools/junit_summary.ts counts <report.xml>    "<passed> <failed> <skipped>"
 *   deno run --allow-read tools/junit_summary.ts skipped <report.xml>   one skipped test (or step) a line
 *
 * A missing report (deno test did not get to write it) counts nothing; tools/test.sh then counts
 * the non-zero exit as a failure.
 */
import { commandLine } from "./settings.ts";

export interface TestCase {
  name: string;
  outcome: "passed" | "failed" | "skipped";
  /** A step's own name (after `<test> > `); undefined for a test. */
  step?: string;
}

const unescape = (text: string) =>
  text.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_, entity: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" };
    if (entity in named) return named[entity];
    return String.fromCodePoint(entity[1] === "x" ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
  });

/** The tests and steps of a report. */
export function testCases(xml: string): TestCase[] {
  const tests: TestCase[] = [];
  for (const suite of xml.split(/<testsuite\s/).slice(1)) {
    const cases = [...suite.matchAll(/<testcase\s+name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)].map(
      (match) => ({
        name: unescape(match[1]),
        outcome: /<failure\b|<error\b/.test(match[3] ?? "")
          ? "failed" as const
          : /<skipped\b/.test(match[3] ?? "")
          ? "skipped" as const
          : "passed" as const,
      }),
    );
    const names = new Set(cases.map((test) => test.name));
    const stepName = (name: string) => {
      for (let at = name.lastIndexOf(" > "); at >= 0; at = name.lastIndexOf(" > ", at - 1)) {
        if (names.has(name.slice(0, at))) return name.slice(at + 3);
        if (at === 0) break;
      }
      return undefined;
    };
    tests.push(...cases.map((test) => ({ ...test, step: stepName(test.name) })));
  }
  return tests;
}

if (import.meta.main) {
  const { positionals } = commandLine({}, { positionals: true });
  const [mode, path] = positionals;
  let xml = "";
  try {
    xml = Deno.readTextFileSync(path);
  } catch {
    // no report: nothing counted
  }
  const all = testCases(xml);
  const tests = all.filter((test) => test.step === undefined);
  if (mode === "counts") {
    const count = (outcome: TestCase["outcome"]) => tests.filter((test) => test.outcome === outcome).length;
    console.log(`${count("passed")} ${count("failed")} ${count("skipped")}`);
  } else if (mode === "skipped") {
    // Steps too, by their own name: a skipped step must declare its reason like a test.
    for (const test of all.filter((test) => test.outcome === "skipped")) console.log(test.step ?? test.name);
  } else {
    console.error("usage: junit_summary.ts counts|skipped <report.xml>");
    Deno.exit(2);
  }
}
