import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import type { ShardJob, ShardReport } from "../shard-report.ts";
import { globRegExp } from "../glob.ts";
import { parseJUnit, type JUnitCase } from "./junit.ts";

/** Quotes a path for `sh -c`: the files come from the repository, so none is trusted as shell text. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Runs `command` with the files appended in `cwd`; its output goes to the runner's (the shard log). */
export function runCommand(command: string, files: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<number> {
  const line = [command, ...files.map(shellQuote)].join(" ");
  console.log(`$ ${line}`);
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", line], { cwd, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ...env } });
    child.once("error", () => resolve(127));
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}

interface Pass {
  cases: JUnitCase[];
  exitCode: number;
  wallMs: number;
}

async function pass(job: ShardJob, files: readonly string[], cwd: string): Promise<Pass> {
  for (const report of reports(job.junit, cwd)) rmSync(join(cwd, report), { force: true });
  const started = performance.now();
  const exitCode = await runCommand(job.command, files, cwd);
  const wallMs = performance.now() - started;
  const cases = reports(job.junit, cwd).flatMap((report) => parseJUnit(readFileSync(join(cwd, report), "utf8")));
  return { cases: cases.map((test) => ({ ...test, file: test.file && isAbsolute(test.file) ? relative(cwd, test.file) : test.file })), exitCode, wallMs };
}

const key = (test: { file: string | undefined; name: string }) => `${test.file ?? ""}::${test.name}`;

/**
 * Runs the shard's files, then each file with a failing test again (`retries` times): a test that
 * failed and then passed is flaky, not a failure. Each file's duration is its tests' time plus an even
 * share of the command's own start-up, which the planner weighs next time.
 */
export async function runTests(job: ShardJob, cwd: string): Promise<ShardReport> {
  const first = await pass(job, job.files, cwd);
  let failing = first.cases.filter((test) => test.outcome === "failed");
  const flaky: JUnitCase[] = [];
  for (let retry = 0; retry < job.retries && failing.length > 0; retry++) {
    const again = await pass(job, [...new Set(failing.map((test) => test.file).filter((file): file is string => file !== undefined && job.files.includes(file)))], cwd);
    const passedNow = new Set(again.cases.filter((test) => test.outcome === "passed").map(key));
    flaky.push(...failing.filter((test) => passedNow.has(key(test))));
    failing = failing.filter((test) => !passedNow.has(key(test)));
  }
  const noReport = first.cases.length === 0;
  const commandFailedAlone = first.exitCode !== 0 && first.cases.every((test) => test.outcome !== "failed");
  return {
    passed: first.cases.filter((test) => test.outcome === "passed").length + flaky.length,
    skipped: first.cases.filter((test) => test.outcome === "skipped").length,
    failures: failing.slice(0, 1000).map((test) => ({ file: test.file ?? "", name: test.name, message: test.message ?? "failed", ...(test.line ? { line: test.line } : {}) })),
    flaky: flaky.slice(0, 1000).map((test) => ({ file: test.file ?? "", name: test.name })),
    files: fileDurations(job.files, first),
    durationMs: first.wallMs,
    exitCode: first.exitCode,
    ...(noReport
      ? { error: `the command wrote no JUnit report at ${job.junit} (exit code ${first.exitCode})` }
      : commandFailedAlone
        ? { error: `the command exited with ${first.exitCode} and its report names no failing test` }
        : {}),
  };
}

function fileDurations(files: readonly string[], run: Pass): ShardReport["files"] {
  const perFile = new Map<string, number>(files.map((file) => [file, 0]));
  for (const test of run.cases) if (test.file !== undefined && perFile.has(test.file)) perFile.set(test.file, perFile.get(test.file)! + test.timeMs);
  const measured = [...perFile.values()].reduce((sum, ms) => sum + ms, 0);
  const share = Math.max(0, run.wallMs - measured) / Math.max(1, files.length);
  return [...perFile].map(([path, ms]) => ({ path, durationMs: Math.round(ms + share) }));
}

/** The JUnit reports the command wrote: files under `cwd` matching the glob (dependencies and .git left out). */
function reports(glob: string, cwd: string): string[] {
  if (!/[*?{]/.test(glob)) return existsSync(join(cwd, glob)) ? [glob] : [];
  const pattern = globRegExp(glob);
  return (readdirSync(cwd, { recursive: true, encoding: "utf8" }) as string[]).filter(
    (path) => pattern.test(path) && !/(^|\/)(node_modules|\.git)\//.test(path),
  );
}
