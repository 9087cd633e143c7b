// A restarted Gantry (a new process, so a new instance id) resumes its predecessor's deployments as
// soon as the predecessor's heartbeat is stale, not when its lease runs out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TERMINAL_PHASES, type Phase } from "../../src/deploy/api.ts";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { startAwsEmulator, type AwsEmulator, type SampleWorld } from "../world/aws/index.ts";
import { REPO, productionWeights, randomSha, sampleConfig, until, untilServing } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";
import { Replica, frontDoorFor } from "../support/replica.ts";
import { storeBackends } from "../support/stores.ts";

const ENDED: Phase[] = [...TERMINAL_PHASES];
/** Long enough that waiting it out would not pass for resuming. */
const LEASE_MS = 120_000;

describe("a replica killed mid-canary and started again under a new instance id", () => {
  let aws: AwsEmulator;
  let world: SampleWorld;
  beforeAll(async () => {
    aws = await startAwsEmulator({ healthCheckIntervalMs: 100 });
    world = await aws.seedSampleWorld();
    await untilServing(world.listeners.production.url);
  });
  afterAll(async () => {
    await aws.close();
  });

  it.each(storeBackends)("resumes the deployment while the dead replica's lease still runs ($name)", async (backend) => {
    const location = await backend.location();
    const store: Store = await location.open();
    const env = { ...(location.options.databaseUrl ? { DATABASE_URL: location.options.databaseUrl } : { GANTRY_DATA_DIR: location.options.dataDir }), LEASE_MS: String(LEASE_MS), HEARTBEAT_MS: "400", AWS_ENDPOINT_URL: aws.endpoint };
    try {
      const deployments = new DeploymentStore(store);
      const controller = frontDoorFor(deployments, aws.endpoint);
      const before = await productionWeights(aws, world);
      const serving = before.blue === 100 ? "blue" : "green";
      const sha = randomSha();
      await aws.pushSampleImage(sha, { version: `heartbeat-${backend.name}` });
      const load = startLoad(world.listeners.production.url, 100);
      const first = new Replica({ ...env, GANTRY_INSTANCE_ID: `gantry-${backend.name}-1` });
      const started = await controller.start({ repo: REPO, config: sampleConfig(aws, world), environment: "production", sha, requestedBy: "octocat", pullRequest: 1 });
      if (started.outcome === "refused") throw new Error(started.reason);
      const id = started.deployment.id;

      await until(() => first.boundaries.some((boundary) => boundary.id === id && boundary.phase === "shifting"));
      await first.kill();
      const lease = await store.db.selectFrom("deployments").select(["lease_owner", "lease_until"]).where("id", "=", id).executeTakeFirstOrThrow();
      expect(lease.lease_owner).toBe(`gantry-${backend.name}-1`);

      const second = new Replica({ ...env, GANTRY_INSTANCE_ID: `gantry-${backend.name}-2` });
      try {
        await until(() => second.boundaries.some((boundary) => boundary.id === id));
        // Taken over through the stale heartbeat: the dead replica's lease had not run out.
        expect(Date.now()).toBeLessThan(Number(lease.lease_until));
        await until(async () => ENDED.includes((await deployments.get(id))!.phase), 90_000).catch(async (error: Error) => {
          const row = await store.db.selectFrom("deployments").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
          const replicas = await store.db.selectFrom("replicas").selectAll().execute();
          throw new Error(`${error.message}: ${JSON.stringify({ ...row, state: JSON.parse(row.state).reason, now: Date.now(), replicas })}`);
        });
      } finally {
        await second.kill();
      }
      const stats = await load.stop();
      const final = (await deployments.get(id))!;
      expect({ phase: final.phase, reason: final.state.reason }).toEqual({ phase: "succeeded", reason: null });
      expect(await productionWeights(aws, world)).toEqual(serving === "blue" ? { blue: 0, green: 100 } : { blue: 100, green: 0 });
      expect(stats.failed).toBe(0);
    } finally {
      await store.close();
    }
  }, 150_000);
});
