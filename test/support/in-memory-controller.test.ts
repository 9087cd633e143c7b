import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeploymentController } from "../../src/deploy/api.ts";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { startAwsEmulator, type AwsEmulator } from "../world/aws/index.ts";
import { REPO, randomSha, sampleConfig } from "./deploy-world.ts";
import { InMemoryController } from "./in-memory-controller.ts";
import { frontDoorFor } from "./replica.ts";
import { storeBackends } from "./stores.ts";

/**
 * Handler tests stand the in-memory controller in for the real one, so both must answer people's
 * requests alike. One script of locks, deploys and repeated requests runs against each.
 */
describe.each(storeBackends)("the in-memory controller answers as the real one does (real one on $name)", (backend) => {
  let aws: AwsEmulator;
  let store: Store;
  let location: Awaited<ReturnType<typeof backend.location>>;
  const opened: Store[] = [];
  beforeEach(async () => {
    aws = await startAwsEmulator({});
    location = await backend.location();
    store = await location.open();
    opened.push(store);
  });
  afterEach(async () => {
    await aws.close();
    await Promise.all(opened.splice(0).map((each) => each.close()));
  });

  async function script(controller: DeploymentController, config: Parameters<DeploymentController["start"]>[0]["config"], sha: string): Promise<string[]> {
    const seen: string[] = [];
    const start = async (by: string, key?: string) => {
      const result = await controller.start({ repo: REPO, config, environment: "production", sha, requestedBy: by, pullRequest: 7, ...(key ? { idempotencyKey: key } : {}) });
      seen.push(result.outcome === "refused" ? `start by ${by}: refused: ${result.reason}` : `start by ${by}: ${result.outcome}`);
      return result.outcome === "refused" ? null : result.deployment.id;
    };
    const lock = async (by: string) => {
      const result = await controller.lock({ repo: REPO, environment: "production", by, reason: "freeze @team", pullRequest: null });
      seen.push(`lock by ${by}: ${result.ok ? "ok" : result.reason}`);
    };
    const unlock = async () => {
      const result = await controller.unlock({ repo: REPO, environment: "production", by: "alice" });
      seen.push(`unlock: ${result.ok ? "ok" : result.reason}`);
    };
    await lock("alice");
    await start("alice");
    await lock("alice");
    await lock("bob");
    await unlock();
    const first = await start("alice", "comment:1");
    const again = await start("alice", "comment:1");
    seen.push(`same deployment for the same key: ${first !== null && first === again}`);
    await lock("bob");
    await unlock();
    await start("bob", "comment:2");
    return seen;
  }

  it("refuses the lock holder's own deploy, and returns one deployment for one idempotency key", async () => {
    const world = await aws.seedSampleWorld();
    const sha = randomSha();
    await aws.pushSampleImage(sha, { version: "v2" });
    const config = sampleConfig(aws, world);

    const real = await script(frontDoorFor(new DeploymentStore(store), aws.endpoint), config, sha);
    const inMemory = await script(new InMemoryController(), config, sha);

    expect(real).toEqual([
      "lock by alice: ok",
      "start by alice: refused: production is locked by @alice (`freeze @\u200Dteam`); /unlock production first",
      "lock by alice: ok",
      "lock by bob: production is already locked by @alice (`freeze @\u200Dteam`)",
      "unlock: ok",
      "start by alice: started",
      "start by alice: started",
      "same deployment for the same key: true",
      "lock by bob: production is already locked by @alice (a deployment in progress)",
      "unlock: production is held by a deployment in progress; /abort production to stop it",
      "start by bob: queued",
    ]);
    expect(inMemory).toEqual(real);
  });

  it("creates one deployment when two replicas start the same request at once", async () => {
    const world = await aws.seedSampleWorld();
    const sha = randomSha();
    await aws.pushSampleImage(sha, { version: "v2" });
    const config = sampleConfig(aws, world);
    const second = await location.open();
    opened.push(second);
    const replicas = [frontDoorFor(new DeploymentStore(store), aws.endpoint), frontDoorFor(new DeploymentStore(second), aws.endpoint)];
    const request = { repo: REPO, config, environment: "production", sha, requestedBy: "alice", pullRequest: 7, idempotencyKey: "comment:42" };

    const results = await Promise.all([...replicas, ...replicas].map((controller) => controller.start(request)));
    const ids = new Set(results.map((result) => (result.outcome === "refused" ? result.reason : result.deployment.id)));
    expect(ids.size).toBe(1);
    expect(await replicas[0]!.history(REPO)).toHaveLength(1);
  });
});
