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

  it("plays the whole story on separate processes: tests in shards, one image build, approvals in Slack, no failed request in a healthy phase, both rollbacks timed, nothing left running", async () => {
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

    // The pushed release, as GitHub and AWS showed it: its tests passed in shards, its image was
    // built once after them, and its deployment ran that very image, approved in Slack by @writer.
    expect(report.releases).toHaveLength(1);
    const [release] = report.releases;
    const conclusions = Object.fromEntries(release!.checks.map((check) => [check.name, check.conclusion]));
    expect(conclusions).toMatchObject({ "gantry/test (1/2)": "success", "gantry/test (2/2)": "success", "gantry/test": "success", "gantry/image": "success" });
    expect(release!.checks.filter((check) => check.name === "gantry/image")).toHaveLength(1);
    expect(release!.imageBuilds).toBe(1);
    expect(release!.builtDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(release!.deployedDigest).toBe(release!.builtDigest);
    expect(release!.approval).toBe("approved by @writer");
    // Each of the three deploys to production was approved by a click in Slack, which Gantry took.
    expect(report.clicks.map((click) => [click.by, click.button, click.status])).toEqual(Array.from({ length: 3 }, () => ["writer", "Approve", 200]));
    for (const click of report.clicks) expect(click.answer).toMatch(/^✅ @writer approved /);
    // On the timeline: the shards, then their summary and the image, before the deploy; then the Slack
    // message with its buttons, the click, and only then the deployment's move on to the canary.
    const first = output.slice(output.indexOf(`== ${story[0]!.name}`), output.indexOf(`== ${story[1]!.name}`));
    const summary = first.search(/check run gantry\/test: ✅ success · All 2 shards passed/);
    for (const shard of [/check run gantry\/test \(1\/2\): ✅ success · 0 failed/, /check run gantry\/test \(2\/2\): ✅ success · 0 failed/]) {
      expect(first.search(shard), first).toBeGreaterThanOrEqual(0);
      expect(first.search(shard), first).toBeLessThan(summary);
    }
    const order = [
      /check run gantry\/test: ✅ success/,
      /check run gantry\/image: ✅ success · Image built in \d+s: sha256:/,
      /comments on #\d+: \/deploy production/,
      /Slack #deploys: ✋ Waiting for approval: .*\[Approve\] \[Reject\]/,
      /@writer clicks Approve/,
      /awaiting-approval → shifting/,
      /load balancer: blue \d+% · green 10%|load balancer: blue 10% · green \d+%/,
      /its deployment ran that image, not built again/,
    ].map((pattern) => first.search(pattern));
    expect(order.every((index) => index >= 0), first).toBe(true);
    expect(order.toSorted((a, b) => a - b), first).toEqual(order);

    // Nothing is left: not the world, Gantry or the load generator, nor the world's task processes.
    expect(report.pids).toHaveLength(3);
    expect(processesMarked(marker)).toEqual([]);
  }, 240_000);
});
