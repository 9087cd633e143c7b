// Test shards when things go wrong at 3 a.m.: a runner killed before it reports, a shard past its
// timeout, Gantry restarted while shards run; and flaky tests, retried, counted and quarantined.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shardResult } from "../../src/ci/check-output.ts";
import { flakyOnce, slowOnce, startCiWorld, type CiWorld } from "./ci-world.ts";
import { eventually } from "./world.ts";

const config = (ci: Record<string, unknown>) =>
  stringify({ ci: { tests: "test/**/*.test.mjs", command: "node --test --test-reporter=junit --test-reporter-destination=junit.xml", shards: 1, retries: 0, timeout: "2m", ...ci }, environments: {} });
const markers = mkdtempSync(join(tmpdir(), "gantry-ci-markers-"));
let marker = 0;
const nextMarker = () => join(markers, `m${++marker}`);

describe("test shards when things fail", { timeout: 180_000 }, () => {
  let world: CiWorld;
  beforeAll(async () => {
    world = await startCiWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  function onlyShard(sha: string) {
    return eventually(`the run of ${sha.slice(0, 7)}`, async () => {
      const run = await world.store.latestRunForSha(world.repo.id, sha);
      return run ? (await world.store.shards(run.id))[0] : undefined;
    });
  }

  it("fails a shard whose runner dies before reporting, saying so", async () => {
    const sha = await world.push("main", { ".github/gantry.yml": config({ command: "kill -9 $PPID; true" }) });
    const summary = await world.completed(sha, "gantry/test");
    expect(summary.conclusion).toBe("failure");
    expect(shardResult(await onlyShard(sha))?.error).toMatch(/ended without reporting \(exit code 137/);
    expect(summary.output.summary).toContain("ended without reporting");
  });

  it("stops and fails a shard that runs past its timeout", async () => {
    const sha = await world.push("main", { ".github/gantry.yml": config({ timeout: "1s" }), "test/slow.test.mjs": slowOnce(nextMarker()) });
    expect((await world.completed(sha, "gantry/test")).conclusion).toBe("failure");
    expect(shardResult(await onlyShard(sha))?.error).toBe("timed out after 1 s");
  });

  it("runs a shard again from the start when Gantry restarts while it runs", async () => {
    const slow = nextMarker();
    const sha = await world.push("main", { ".github/gantry.yml": config({}), "test/slow.test.mjs": slowOnce(slow) });
    await eventually("the slow test to start", () => (existsSync(slow) ? true : undefined));
    await world.restart();
    const summary = await world.completed(sha, "gantry/test");
    expect(summary.conclusion).toBe("success");
    const shard = await onlyShard(sha);
    expect([shard.status, shard.attempt]).toEqual(["passed", 2]);
    // One check run for the shard, carried over the restart.
    expect(world.checkRuns(sha).filter((run) => run.name === "gantry/test (1/1)")).toHaveLength(1);
  });

  it("retries a failing test, reports it flaky when it then passes, counts it per commit, and quarantines it past the threshold", async () => {
    const settings = config({ retries: 1, quarantineAfter: 2 });
    const first = await world.push("main", { ".github/gantry.yml": settings, "test/flaky.test.mjs": flakyOnce(nextMarker()) });
    const summary = await world.completed(first, "gantry/test");
    expect(summary.conclusion).toBe("success");
    expect(summary.output.summary).toMatch(/Flaky tests[^\n]*\n- `test\/flaky.test.mjs` `sometimes`: 1/);
    const second = await world.push("main", { ".github/gantry.yml": settings, "test/flaky.test.mjs": flakyOnce(nextMarker()) });
    expect((await world.completed(second, "gantry/test")).output.summary).toContain("`sometimes`: 2");

    // Flaky on two commits: its failures no longer block, and are reported as quarantined.
    const alwaysFails = 'import assert from "node:assert/strict";\nimport test from "node:test";\n\ntest("sometimes", () => {\n  assert.fail("down today");\n});\n';
    const third = await world.push("main", { ".github/gantry.yml": settings, "test/flaky.test.mjs": alwaysFails });
    const quarantined = await world.completed(third, "gantry/test");
    expect(quarantined.conclusion).toBe("success");
    expect(quarantined.output.summary).toMatch(/Quarantined tests[^\n]*\n- `test\/flaky.test.mjs` `sometimes`/);
  });
});
