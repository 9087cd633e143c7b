import { afterEach, describe, expect, it } from "vitest";
import { CiStore, type NewRun } from "../../src/ci/ci-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { storeBackends } from "../support/stores.ts";

const run = (overrides: Partial<NewRun> = {}): NewRun => ({
  installationId: 2,
  owner: "acme",
  repo: "shop",
  repositoryId: 42,
  branch: "feature",
  sha: "a".repeat(40),
  defaultBranch: false,
  settings: "{}",
  shards: [["t/a.test.ts"], ["t/b.test.ts", "t/c.test.ts"]],
  ...overrides,
});

describe.each(storeBackends)("the CI store on $name", (backend) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
  });

  async function open(): Promise<CiStore> {
    store = await (await backend.location()).open();
    return new CiStore(store);
  }

  it("hands out default-branch shards before older branch shards, each once", async () => {
    const ci = await open();
    const branchRun = await ci.createRun(run());
    const mainRun = await ci.createRun(run({ branch: "main", defaultBranch: true, sha: "b".repeat(40) }));
    const claims = [];
    for (let i = 0; i < 5; i++) claims.push(await ci.claimQueued("replica-a", "local"));
    expect(claims.slice(0, 4).map((shard) => [shard?.run_id, shard?.shard_index])).toEqual([
      [mainRun, 1],
      [mainRun, 2],
      [branchRun, 1],
      [branchRun, 2],
    ]);
    expect(claims[4]).toBeUndefined();
    expect(await ci.countRunning("local", "replica-a")).toBe(4);
  });

  it("records a shard's report once, for its attempt only, and completes the run after the last", async () => {
    const ci = await open();
    const runId = await ci.createRun(run());
    const [a, b] = [await ci.claimQueued("r", "local"), await ci.claimQueued("r", "local")];
    expect(await ci.completeShard(a!.id, 2, "passed", "{}")).toBe(false);
    expect(await ci.completeShard(a!.id, 1, "passed", "{}")).toBe(true);
    expect(await ci.completeShard(a!.id, 1, "failed", "{}")).toBe(false);
    expect(await ci.finishRunIfDone(runId, () => "success")).toBeUndefined();
    expect(await ci.completeShard(b!.id, 1, "failed", "{}")).toBe(true);
    expect((await ci.finishRunIfDone(runId, () => "failure"))?.conclusion).toBe("failure");
    expect(await ci.finishRunIfDone(runId, () => "failure")).toBeUndefined();

    // A re-run queues the same files under a new attempt, and gives the run writes for it.
    expect(await ci.rerun(runId, [b!.id])).toBe(1);
    const again = await ci.shard(b!.id);
    expect([again?.status, again?.attempt, again?.files, again?.check_run_id]).toEqual(["queued", 2, b!.files, null]);
    const reopened = await ci.run(runId);
    expect([reopened?.status, reopened?.write_budget, reopened?.summary_check_run_id]).toEqual(["running", 2 * 2 + 4 + 4, null]);
  });

  it("cancels a superseded run: queued and running shards end, ended ones stay", async () => {
    const ci = await open();
    const older = await ci.createRun(run());
    const [first] = [await ci.claimQueued("r", "local")];
    await ci.setHandle(first!.id, 1, "handle-1");
    const newer = await ci.createRun(run({ sha: "c".repeat(40) }));
    expect(await ci.supersededRuns(42, "feature", newer)).toEqual([older]);
    const stopped = await ci.cancelRun(older);
    expect(stopped.map((shard) => shard.handle)).toEqual(["handle-1"]);
    expect((await ci.shards(older)).map((shard) => shard.status)).toEqual(["cancelled", "cancelled"]);
    expect((await ci.run(older))?.status).toBe("cancelled");
    expect(await ci.completeShard(first!.id, 1, "passed", "{}")).toBe(false);
  });

  it("keeps the latest durations per file, and counts flaky commits per test", async () => {
    const ci = await open();
    for (let i = 1; i <= 12; i++) await ci.recordTimings(42, [{ path: "t/a.test.ts", durationMs: i * 100 }]);
    const history = await ci.timingHistory(42, ["t/a.test.ts", "t/none.test.ts"]);
    expect(history.get("t/a.test.ts")).toHaveLength(10);
    expect(history.has("t/none.test.ts")).toBe(false);
    await ci.recordFlaky(42, "a".repeat(40), ["t/a.test.ts::x"]);
    await ci.recordFlaky(42, "a".repeat(40), ["t/a.test.ts::x"]);
    await ci.recordFlaky(42, "b".repeat(40), ["t/a.test.ts::x", "t/a.test.ts::y"]);
    expect(await ci.flakyCounts(42, ["t/a.test.ts::x", "t/a.test.ts::y", "t/a.test.ts::z"])).toEqual(new Map([["t/a.test.ts::x", 2], ["t/a.test.ts::y", 1]]));
  });
});
