import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DemoReport } from "../../demo/main.ts";
import { story } from "../../demo/story.ts";

/** Processes whose environment carries `marker`: whatever the demo started, and whatever those started. */
function processesMarked(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").includes(marker)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

describe("npm run demo", () => {
  const marker = `GANTRY_DEMO_TEST=${randomUUID()}`;
  afterEach(() => {
    // A failed run must not leave its processes to the next test.
    for (const pid of processesMarked(marker)) process.kill(pid, "SIGKILL");
  });

  it("plays the whole story on separate processes: no failed request in a healthy phase, both rollbacks timed, nothing left running", async () => {
    const reportFile = join(mkdtempSync(join(tmpdir(), "gantry-demo-test-")), "report.json");
    const [name, value] = marker.split("=") as [string, string];
    const demo = spawn("npm", ["run", "--silent", "demo", "--", "--report", reportFile], { env: { ...process.env, [name]: value }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    demo.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => demo.once("exit", resolve));

    expect(code, output).toBe(0);
    const report = JSON.parse(readFileSync(reportFile, "utf8")) as DemoReport;
    expect(report.error).toBeNull();
    expect(report.phases.map((phase) => phase.phase)).toEqual(story.map((phase) => phase.name));
    for (const phase of report.phases) {
      expect(phase.sent, phase.phase).toBeGreaterThan(0);
      if (phase.healthy) expect(phase.failures, phase.phase).toEqual({});
    }
    // The buggy release's errors came from it alone, and stopped with the rollback.
    for (const phase of report.phases.filter((candidate) => !candidate.healthy)) expect(Object.keys(phase.failures).every((cause) => cause === "500 from v3")).toBe(true);
    expect(report.rollbacks.map((rollback) => rollback.label)).toEqual(["automatic rollback of v3", "/rollback of v4"]);
    for (const rollback of report.rollbacks) expect(rollback.timeToRestoreSeconds).toBeGreaterThanOrEqual(0);
    // The timeline a newcomer reads: canary steps with verdicts, the automatic rollback, the summary.
    expect(output).toMatch(/verdict, step 1: ✅ pass/);
    expect(output).toMatch(/verdict, step \d: ❌ fail/);
    expect(output).toContain("status comment: ↩️ Rolled back:");
    expect(output).toContain("every process it started has stopped");

    // Nothing is left: not the world, Gantry or the load generator, nor the world's task processes.
    expect(report.pids).toHaveLength(3);
    expect(processesMarked(marker)).toEqual([]);
  }, 240_000);
});
