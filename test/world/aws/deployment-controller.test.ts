// The emulator reports and enforces a service's deployment controller and circuit breaker as ECS does.
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator, type AwsEmulator, type SampleWorld } from "./index.ts";
import { clients, describeService, sampleVersion, waitFor, waitSteady } from "./test-helpers.ts";

let emu: AwsEmulator;
let world: SampleWorld;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  emu = await startAwsEmulator({ healthCheckIntervalMs: 50 });
  world = await emu.seedSampleWorld();
  c = clients(emu);
  await waitSteady(c.ecs, world, world.services.blue.name);
});
afterAll(() => emu.close());

describe("ECS deployment controllers", () => {
  it("refuses a new task definition under CODE_DEPLOY and EXTERNAL, but accepts a desired count", async () => {
    const td = await sampleVersion(emu, c.ecs, "v2", { version: "v2" });
    const update = (input: { taskDefinition?: string; desiredCount?: number }) =>
      c.ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, ...input }));
    emu.configureService(world.clusterArn, world.services.green.name, { deploymentController: "CODE_DEPLOY" });
    expect((await describeService(c.ecs, world, world.services.green.name)).deploymentController).toEqual({ type: "CODE_DEPLOY" });
    await expect(update({ taskDefinition: td })).rejects.toThrow(
      expect.objectContaining({ name: "InvalidParameterException", message: expect.stringContaining("CODE_DEPLOY deployment controller") }),
    );
    emu.configureService(world.clusterArn, world.services.green.name, { deploymentController: "EXTERNAL" });
    await expect(update({ taskDefinition: td })).rejects.toThrow(/EXTERNAL deployment controller/);
    await update({ desiredCount: 0 });
    expect((await describeService(c.ecs, world, world.services.green.name)).taskDefinition).toBe(world.taskDefinitionArn);
    emu.configureService(world.clusterArn, world.services.green.name, { deploymentController: "ECS" });
  });

  it("fails a rollout whose tasks keep failing and rolls back to the last completed revision", async () => {
    await c.ecs.send(
      new UpdateServiceCommand({
        cluster: world.clusterArn,
        service: world.services.blue.name,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    const crash = await sampleVersion(emu, c.ecs, "v-crash", { version: "v-crash", exitAtStart: true });
    await c.ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.blue.name, taskDefinition: crash }));

    const service = await waitFor("the circuit breaker to roll back", async () => {
      const s = await describeService(c.ecs, world, world.services.blue.name);
      return s.deployments?.some((d) => d.rolloutState === "FAILED") && s;
    });
    expect(service.deploymentConfiguration?.deploymentCircuitBreaker).toEqual({ enable: true, rollback: true });
    expect(service.taskDefinition).toBe(world.taskDefinitionArn);
    const failed = service.deployments?.find((d) => d.rolloutState === "FAILED");
    expect(failed).toMatchObject({ taskDefinition: crash, rolloutStateReason: expect.stringContaining("circuit breaker") });
    expect(failed?.failedTasks).toBeGreaterThanOrEqual(3);
    const steady = await waitSteady(c.ecs, world, world.services.blue.name);
    expect(steady.taskDefinition).toBe(world.taskDefinitionArn);
  });
});
