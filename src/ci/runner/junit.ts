import { XMLParser } from "fast-xml-parser";

export interface JUnitCase {
  file: string | undefined;
  name: string;
  timeMs: number;
  outcome: "passed" | "failed" | "skipped";
  line?: number;
  message?: string;
}

type Node = Record<string, unknown>;

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", isArray: (name) => ["testsuite", "testcase", "failure", "error"].includes(name), processEntities: true, htmlEntities: true });

/**
 * Test cases from a JUnit XML report as vitest, jest, node --test, pytest and go-junit-report write
 * it. The file comes from the case's `file` attribute, else its suite's `file` or `name`; the line
 * from a `line` attribute, else from the first `<file>:<line>` of the failure's stack.
 */
export function parseJUnit(xml: string): JUnitCase[] {
  const root = parser.parse(xml) as Node;
  const cases: JUnitCase[] = [];
  const visit = (node: Node, suiteFile: string | undefined): void => {
    for (const suite of asArray(node.testsuite)) {
      visit(suite, str(suite["@file"]) ?? (looksLikePath(str(suite["@name"])) ? str(suite["@name"]) : suiteFile));
    }
    for (const testcase of asArray(node.testcase)) cases.push(toCase(testcase, suiteFile));
  };
  visit((root.testsuites as Node | undefined) ?? root, undefined);
  return cases;
}

function toCase(node: Node, suiteFile: string | undefined): JUnitCase {
  const file = str(node["@file"]) ?? suiteFile;
  const problem = asArray(node.failure)[0] ?? asArray(node.error)[0];
  const base = { file, name: str(node["@name"]) ?? "(unnamed)", timeMs: Math.max(0, Number(node["@time"] ?? 0) * 1000) || 0 };
  if (problem !== undefined) {
    const text = typeof problem === "string" ? problem : (str(problem["#text"]) ?? "");
    const message = (typeof problem === "string" ? undefined : str(problem["@message"])) ?? text.split("\n").find((line) => line.trim() !== "") ?? "failed";
    const line = Number(node["@line"]) || lineIn(text, file);
    return { ...base, outcome: "failed", message: message.trim(), ...(line ? { line } : {}) };
  }
  if (node.skipped !== undefined) return { ...base, outcome: "skipped" };
  return { ...base, outcome: "passed" };
}

/** The first line number given for `file` in a stack trace (`…/file:12:5`). */
function lineIn(text: string, file: string | undefined): number | undefined {
  if (!file) return undefined;
  const name = file.split("/").at(-1)!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`${name}:(\\d+)(?::\\d+)?`).exec(text);
  return match ? Number(match[1]) : undefined;
}

function looksLikePath(value: string | undefined): boolean {
  return value !== undefined && /\.[a-z]{1,5}$/i.test(value) && !value.includes(" ");
}

function asArray(value: unknown): Node[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]) as Node[];
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
