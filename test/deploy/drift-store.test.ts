import { afterEach, describe, expect, it } from "vitest";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { REPO } from "../support/deploy-world.ts";
import { deploymentFixture } from "../support/deployment-fixture.ts";
import { storeBackends } from "../support/stores.ts";

const ALL_GREEN = { blue: 0, green: 100 };
const SPLIT = { blue: 30, green: 70 };
const reading = (deploymentId: string, observed = SPLIT) => ({ repo: REPO, environment: "production", deploymentId, expected: ALL_GREEN, observed });

describe.each(storeBackends)("drift and addressing in the store on $name", (backend) => {
  const opened: Store[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  async function open(clock = { now: 1_000_000 }) {
    const store = await (await backend.location()).open();
    opened.push(store);
    return { clock, deployments: new DeploymentStore(store, () => clock.now) };
  }

  it("records drift once however often it is seen, follows its weights while open, and keeps acknowledged weights quiet", async () => {
    const { deployments, clock } = await open();
    const { drifts } = deployments;

    expect(await drifts.observe(reading("d-1"))).toBe("new");
    expect(await drifts.observe(reading("d-1"))).toBe("unchanged");
    clock.now += 1_000;
    expect(await drifts.observe(reading("d-1", { blue: 50, green: 50 }))).toBe("changed");
    expect(await drifts.find(REPO, "production")).toMatchObject({ observed: { blue: 50, green: 50 }, detectedAt: 1_000_000, observedAt: 1_001_000, resolution: null });

    const acknowledged = await drifts.resolve(REPO, "production", { kind: "acknowledged", by: "alice", note: "scaled by hand" });
    expect(acknowledged).toMatchObject({ resolution: "acknowledged", resolvedBy: "alice", note: "scaled by hand" });
    expect(await drifts.resolve(REPO, "production", { kind: "acknowledged", by: "bob", note: null })).toBeUndefined();
    // The weights someone acknowledged are not drift again; other weights are.
    expect(await drifts.observe(reading("d-1", { blue: 50, green: 50 }))).toBe("unchanged");
    expect(await drifts.observe(reading("d-1", { blue: 90, green: 10 }))).toBe("new");
    expect(await drifts.find(REPO, "production")).toMatchObject({ observed: { blue: 90, green: 10 }, resolution: null, resolvedBy: null });
    // Drift against the weights of a later deployment is new, even at weights seen before.
    await drifts.resolve(REPO, "production", { kind: "forced", by: "admin", note: null });
    expect(await drifts.observe(reading("d-2", { blue: 90, green: 10 }))).toBe("new");
    expect(await drifts.ofDeployment("d-2")).toMatchObject({ deploymentId: "d-2", resolution: null });
    expect(await drifts.ofDeployment("d-1")).toBeUndefined();
  });

  it("reports new drift to one of several replicas that see it at once", async () => {
    const { deployments } = await open();
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => deployments.drifts.observe(reading("d-1"))));
    expect(outcomes.filter((outcome) => outcome === "new")).toHaveLength(1);
  });

  it("finds the deployment holding the environment, and deployments by a unique id prefix", async () => {
    const { deployments } = await open();
    const running = deploymentFixture({ id: "aaaa1111-0000-4000-8000-000000000001", sha: "a".repeat(40), phase: "shifting" });
    const queued = deploymentFixture({ id: "aaaa2222-0000-4000-8000-000000000002", sha: "b".repeat(40), phase: "queued" });
    expect((await deployments.acquireDeployLock(running)).ok).toBe(true);
    await deployments.insert(running);
    await deployments.insert({ ...queued, createdAt: 1 });
    expect((await deployments.acquireDeployLock(queued)).ok).toBe(false);

    expect((await deployments.holderOf(REPO, "production"))?.id).toBe(running.id);
    expect(await deployments.holderOf(REPO, "staging")).toBeUndefined();
    expect((await deployments.findById(REPO, "aaaa2222")).map((found) => found.id)).toEqual([queued.id]);
    expect((await deployments.findById(REPO, running.id)).map((found) => found.id)).toEqual([running.id]);
    expect(await deployments.findById(REPO, "aaaa")).toHaveLength(2);
    expect(await deployments.findById({ owner: "acme", repo: "other" }, "aaaa2222")).toEqual([]);
    expect(await deployments.environments()).toEqual([{ repo: { owner: REPO.owner, repo: REPO.repo }, environment: "production" }]);
  });
});
