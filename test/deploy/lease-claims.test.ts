import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeploymentStore, type ClaimTiming } from "../../src/deploy/deployment-store.ts";
import type { Deployment } from "../../src/deploy/deployment-state.ts";
import type { Store } from "../../src/store/open-store.ts";
import { deploymentFixture } from "../support/deployment-fixture.ts";
import { storeBackends } from "../support/stores.ts";

const TIMING: ClaimTiming = { leaseMs: 30_000, heartbeatStaleMs: 10_000 };

describe.each(storeBackends)("claims on $name", (backend) => {
  let store: Store;
  let clock: number;
  let deployments: DeploymentStore;
  beforeEach(async () => {
    store = await (await backend.location()).open();
    clock = 1_000_000;
    deployments = new DeploymentStore(store, () => clock);
  });
  afterEach(async () => {
    await store.close();
  });

  const insert = async (id: string, options: Partial<Parameters<typeof deploymentFixture>[0]> = {}): Promise<Deployment> => {
    const deployment = deploymentFixture({ id, sha: id.padEnd(40, "0"), phase: "shifting", nextTickAt: clock - 1, ...options });
    await deployments.insert(deployment);
    return deployment;
  };

  it("takes a deployment in the middle of a tick at once when its replica stopped heartbeating, long before the lease runs out", async () => {
    await insert("d1");
    await deployments.heartbeat("a", clock);
    const held = (await deployments.claimDue("a", TIMING))!;
    expect(held.deployment.id).toBe("d1");

    clock += 5_000;
    await deployments.heartbeat("b", clock);
    expect(await deployments.claimDue("b", TIMING)).toBeUndefined();

    // a has not heartbeaten for longer than heartbeatStaleMs; its lease has 19 s left.
    clock += 6_000;
    await deployments.heartbeat("b", clock);
    const taken = (await deployments.claimDue("b", TIMING))!;
    expect(taken.deployment.id).toBe("d1");
    expect(taken.lease.fence).toBeGreaterThan(held.lease.fence);
    // The dead replica, should it wake up, can neither renew nor save.
    expect(await deployments.renew("d1", held.lease, TIMING.leaseMs)).toBe(false);
    expect(await deployments.save("d1", held.lease, { phase: "promoting", state: held.deployment.state, nextTickAt: clock }, TIMING.leaseMs)).toBe(false);
  });

  it("keeps a live replica's deployment, and does not cut a wait a dead replica scheduled short", async () => {
    await insert("d1");
    await deployments.heartbeat("a", clock);
    const held = (await deployments.claimDue("a", TIMING))!;
    // a schedules the keep-warm wait (next tick in 10 minutes), then dies.
    expect(await deployments.save("d1", held.lease, { phase: "cooling", state: held.deployment.state, nextTickAt: clock + 600_000 }, TIMING.leaseMs)).toBe(true);
    clock += 60_000;
    await deployments.heartbeat("b", clock);
    expect(await deployments.claimDue("b", TIMING)).toBeUndefined();
    clock += 600_000;
    expect((await deployments.claimDue("b", TIMING))?.deployment.id).toBe("d1");
  });

  it("hands a replica's deployments over at once when it leaves", async () => {
    await insert("d1");
    await deployments.heartbeat("a", clock);
    await deployments.heartbeat("b", clock);
    expect((await deployments.claimDue("a", TIMING))?.deployment.id).toBe("d1");
    expect(await deployments.claimDue("b", TIMING)).toBeUndefined();
    await deployments.leave("a");
    clock += 1;
    expect((await deployments.claimDue("b", TIMING))?.deployment.id).toBe("d1");
  });

  it("claims rollbacks, and deployments a person asked to roll back or abort, ahead of more overdue work", async () => {
    await insert("overdue", { nextTickAt: clock - 60_000 });
    await insert("approving", { nextTickAt: clock - 50_000 });
    await insert("rolling", { phase: "rolling-back", nextTickAt: clock - 1_000 });
    await insert("asked", { nextTickAt: clock - 2_000 });
    await insert("aborting", { phase: "awaiting-approval", nextTickAt: clock - 3_000 });
    expect(await deployments.requestAction("asked", { kind: "rollback", by: "octocat", reason: null, at: clock })).toBe(true);
    expect(await deployments.requestAction("aborting", { kind: "abort", by: "octocat", reason: "\"kind\":\"promote\"", at: clock })).toBe(true);
    // A /promote is no emergency, even with a reason that looks like one.
    expect(await deployments.requestAction("approving", { kind: "approve", by: "octocat", reason: "\"kind\":\"rollback\"", at: clock })).toBe(true);

    const order: string[] = [];
    for (let claimed = await deployments.claimDue("a", TIMING); claimed; claimed = await deployments.claimDue("a", TIMING)) {
      order.push(claimed.deployment.id);
      // Each stays claimed (a tick in progress), as when every slot of the runner is busy.
    }
    expect(order).toEqual(["aborting", "asked", "rolling", "overdue", "approving"]);
  });

  it("takes only a rollback into the slot a full runner keeps for one", async () => {
    await insert("overdue", { nextTickAt: clock - 60_000 });
    expect(await deployments.claimDue("a", TIMING, true)).toBeUndefined();
    await insert("bad-canary", { nextTickAt: clock + 60_000 });
    expect(await deployments.requestAction("bad-canary", { kind: "rollback", by: "octocat", reason: null, at: clock })).toBe(true);
    expect((await deployments.claimDue("a", TIMING, true))?.deployment.id).toBe("bad-canary");
    expect(await deployments.claimDue("a", TIMING, true)).toBeUndefined();
    expect((await deployments.claimDue("a", TIMING))?.deployment.id).toBe("overdue");
  });

  it("claims an ended deployment once more, for the read-back of its final weights, when that is due", async () => {
    await insert("d1");
    await deployments.heartbeat("a", clock);
    const held = (await deployments.claimDue("a", TIMING))!;
    const state = { ...held.deployment.state, liveColour: "blue" as const, weights: { blue: 100, green: 0 } };
    expect(await deployments.save("d1", held.lease, { phase: "aborted", state, nextTickAt: clock, finalCheckAt: clock + 30_000 }, TIMING.leaseMs)).toBe(true);
    clock += 29_000;
    expect(await deployments.claimDue("b", TIMING)).toBeUndefined();
    clock += 1_000;
    const check = (await deployments.claimDue("b", TIMING))!;
    expect(check.deployment.phase).toBe("aborted");
    expect(await deployments.save("d1", check.lease, { phase: "aborted", state, nextTickAt: clock, finalCheckAt: null }, TIMING.leaseMs)).toBe(true);
    clock += 60_000;
    expect(await deployments.claimDue("b", TIMING)).toBeUndefined();
    expect((await deployments.get("d1"))?.phase).toBe("aborted");
  });
});
