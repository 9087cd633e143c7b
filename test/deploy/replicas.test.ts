import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TERMINAL_PHASES, type Phase } from "../../src/deploy/api.ts";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import { repoConfigSchema } from "../../src/config/repo-config.ts";
import type { Store } from "../../src/store/open-store.ts";
import { startAwsEmulator, type AwsEmulator, type SampleWorld } from "../world/aws/index.ts";
import { REPO, productionWeights, randomSha, sampleConfig, until, untilServing } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";
import { Replica, frontDoorFor } from "../support/replica.ts";
import { storeBackends } from "../support/stores.ts";

const ENDED: Phase[] = [...TERMINAL_PHASES];

/** Two environments, each a sample world of its own (on the server's one AWS endpoint), so two deployments run at once. */
interface Site {
  aws: AwsEmulator;
  world: SampleWorld;
}

describe("two controller replicas sharing PostgreSQL", () => {
  const sites: Site[] = [];
  let store: Store;
  let databaseUrl: string;
  let aws: AwsEmulator;
  beforeAll(async () => {
    aws = await startAwsEmulator({ healthCheckIntervalMs: 100 });
    for (const name of ["staging", "production"]) {
      const world = await aws.seedSampleWorld(name);
      await untilServing(world.listeners.production.url);
      sites.push({ aws, world });
    }
    const location = await storeBackends.find((backend) => backend.name === "postgres")!.location();
    databaseUrl = location.options.databaseUrl!;
    store = await location.open();
  });
  afterAll(async () => {
    await store.close();
    await aws.close();
  });

  it("drives each deployment by one replica, and hands it over when that replica is killed", async () => {
    const [staging, production] = sites.map((site) => sampleConfig(site.aws, site.world).environments.production!);
    const config = repoConfigSchema.parse({ build: { repository: sites[0]!.world.repositoryName }, environments: {} });
    const twoEnvironments = { ...config, environments: { staging: staging!, production: production! } };
    const deployments = new DeploymentStore(store);
    const controller = frontDoorFor(deployments, aws.endpoint);
    const replicas = ["replica-a", "replica-b"].map((id) => new Replica({ DATABASE_URL: databaseUrl, GANTRY_INSTANCE_ID: id, LEASE_MS: "3000", AWS_ENDPOINT_URL: aws.endpoint }));

    const loads = sites.map((site) => startLoad(site.world.listeners.production.url, 100));
    const ids: Record<string, string> = {};
    for (const [index, environment] of ["staging", "production"].entries()) {
      const sha = randomSha();
      await sites[index]!.aws.pushSampleImage(sha, { version: `v-${environment}` });
      const started = await controller.start({ repo: REPO, config: twoEnvironments, environment, sha, requestedBy: "octocat", pullRequest: 1 });
      if (started.outcome === "refused") throw new Error(started.reason);
      ids[environment] = started.deployment.id;
    }
    const all = () => replicas.flatMap((replica) => replica.boundaries);
    const drivers = (id: string) => new Set(all().filter((boundary) => boundary.id === id).map((boundary) => boundary.instanceId));

    // Until a replica dies, every step of a deployment is taken by the replica that took its first.
    await until(() => Object.values(ids).every((id) => all().filter((boundary) => boundary.id === id && boundary.phase === "shifting").length > 0));
    for (const id of Object.values(ids)) expect(drivers(id).size).toBe(1);

    const [victimId] = drivers(ids.production!);
    const victim = replicas.find((replica) => replica.boundaries.some((boundary) => boundary.instanceId === victimId))!;
    const survivor = replicas.find((replica) => replica !== victim)!;
    const survivorId = victimId === "replica-a" ? "replica-b" : "replica-a";
    await victim.kill();

    await until(async () => {
      const rows = await Promise.all(Object.values(ids).map((id) => deployments.get(id)));
      return rows.every((row) => row && ENDED.includes(row.phase));
    }, 120_000).catch(async (error: Error) => {
      const rows = await Promise.all(Object.values(ids).map((id) => deployments.get(id)));
      const seen = rows.map((row) => `${row?.environment}: ${row?.phase} (${row?.state.reason}) next in ${(row?.nextTickAt ?? 0) - Date.now()} ms`);
      throw new Error(`${error.message}; victim ${victimId}; ${seen.join("; ")}; survivor saw ${survivor.boundaries.length} boundaries`);
    });
    await survivor.kill();
    const stats = await Promise.all(loads.map((load) => load.stop()));
    expect(stats.map((figures) => figures.failures)).toEqual([{}, {}]);

    for (const id of Object.values(ids)) {
      const final = (await deployments.get(id))!;
      expect({ phase: final.phase, reason: final.state.reason }).toEqual({ phase: "succeeded", reason: null });
    }
    expect(survivor.boundaries.some((boundary) => boundary.id === ids.production && boundary.instanceId === survivorId)).toBe(true);
    for (const { aws, world } of sites) {
      expect(await productionWeights(aws, world)).toEqual({ blue: 0, green: 100 });
      const shifts = aws.calls.filter((call) => call.operation === "ModifyListener" && (call.input as Record<string, unknown>).ListenerArn === world.listeners.production.arn);
      expect(shifts).toHaveLength(3);
    }
  }, 180_000);
});
