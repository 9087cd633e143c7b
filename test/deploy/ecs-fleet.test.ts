// EcsFleet against the emulated ECS and ALB: describe, clone a revision onto a new image, roll the
// idle colour onto it until steady and healthy, and scale it to zero.
import { DescribeTaskDefinitionCommand, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EcsFleet } from "../../src/deploy/ecs-fleet.ts";
import { get, waitFor } from "../world/aws/test-helpers.ts";
import { recordCalls, startWorld, type TestWorld } from "../aws/world.ts";

let t: TestWorld;
let fleet: EcsFleet;
beforeAll(async () => {
  t = await startWorld();
  fleet = new EcsFleet({ ecs: t.aws.ecs, elbv2: t.aws.elbv2, cluster: t.world.clusterName, services: serviceNames(), targetGroups: t.world.targetGroups });
});
afterAll(() => t.close());

function serviceNames() {
  return { blue: t.world.services.blue.name, green: t.world.services.green.name };
}

const REGISTRABLE = new Set([
  "family",
  "containerDefinitions",
  "taskRoleArn",
  "executionRoleArn",
  "networkMode",
  "volumes",
  "placementConstraints",
  "requiresCompatibilities",
  "cpu",
  "memory",
  "tags",
  "pidMode",
  "ipcMode",
  "proxyConfiguration",
  "inferenceAccelerators",
  "ephemeralStorage",
  "runtimePlatform",
  "enableFaultInjection",
]);

describe("EcsFleet", () => {
  it("describes a steady service with its task definition and first container's image", async () => {
    const v1 = (await t.aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: t.world.taskDefinitionArn }))).taskDefinition;
    expect(await fleet.describe("blue")).toEqual({
      taskDefinitionArn: t.world.taskDefinitionArn,
      image: v1?.containerDefinitions?.[0]?.image,
      desiredCount: 2,
      runningCount: 2,
      steady: true,
      deploymentController: "ECS",
    });
  });

  it("registers a revision that differs from its source only in the first container's image", async () => {
    const { imageUri: v1 } = await t.emu.pushSampleImage("v1", { version: "v1" });
    const { imageUri: v2 } = await t.emu.pushSampleImage("v2", { version: "v2" });
    const source = await t.aws.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "rich-app",
        taskRoleArn: "arn:aws:iam::123456789012:role/app",
        executionRoleArn: "arn:aws:iam::123456789012:role/exec",
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "512",
        memory: "1024",
        runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
        ephemeralStorage: { sizeInGiB: 30 },
        volumes: [{ name: "scratch" }],
        tags: [{ key: "team", value: "shop" }],
        containerDefinitions: [
          { name: "app", image: v1, essential: true, environment: [{ name: "MODE", value: "prod" }], mountPoints: [{ sourceVolume: "scratch", containerPath: "/tmp" }] },
          { name: "log-router", image: "fluent/fluent-bit:3", essential: false },
        ],
      }),
    );
    const calls = recordCalls(t.aws.ecs);

    const arn = await fleet.registerRevision(source.taskDefinition?.taskDefinitionArn ?? "", v2);

    const describe = async (taskDefinition: string) => t.aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition, include: ["TAGS"] }));
    const [before, after] = [await describe(source.taskDefinition?.taskDefinitionArn ?? ""), await describe(arn)];
    expect(after.taskDefinition?.family).toBe("rich-app");
    expect(after.taskDefinition?.revision).toBe((before.taskDefinition?.revision ?? 0) + 1);
    expect(after.taskDefinition?.containerDefinitions?.[0]?.image).toBe(v2);
    const comparable = (td: typeof before.taskDefinition) => {
      const { taskDefinitionArn: _arn, revision: _revision, registeredAt: _at, containerDefinitions, ...rest } = td ?? {};
      return { ...rest, containerDefinitions: containerDefinitions?.map((c, i) => (i === 0 ? { ...c, image: "<replaced>" } : c)) };
    };
    expect(comparable(after.taskDefinition)).toEqual(comparable(before.taskDefinition));
    expect(after.tags).toEqual([{ key: "team", value: "shop" }]);
    const sent = calls.find((c) => c.command === "RegisterTaskDefinitionCommand")?.input ?? {};
    const sentKeys = Object.entries(sent).filter(([, v]) => v !== undefined).map(([k]) => k);
    expect(sentKeys.filter((k) => !REGISTRABLE.has(k))).toEqual([]);
  });

  it("rolls the idle colour onto a revision and scales it up until steady with every target healthy, then scales it to zero", async () => {
    const { imageUri } = await t.emu.pushSampleImage("v3", { version: "v3" });
    const arn = await fleet.registerRevision(t.world.taskDefinitionArn, imageUri);

    await fleet.update("green", { taskDefinitionArn: arn, desiredCount: 2 });
    const rolled = await waitFor("green steady on v3", async () => {
      const [state, health] = [await fleet.describe("green"), await fleet.targetHealth("green")];
      return state.steady && health.total === 2 && health.healthy === 2 && { state, health };
    });
    expect(rolled.state).toEqual({ taskDefinitionArn: arn, image: imageUri, desiredCount: 2, runningCount: 2, steady: true, deploymentController: "ECS" });
    // The test listener points at green: its traffic now reaches the new revision.
    expect((await get(`${t.world.listeners.test.url}/`)).version).toBe("v3");

    await fleet.update("green", { desiredCount: 0 });
    await waitFor("green scaled to zero", async () => (await fleet.describe("green")).steady && (await fleet.targetHealth("green")).total === 0);
    expect(await fleet.describe("green")).toMatchObject({ taskDefinitionArn: arn, desiredCount: 0, runningCount: 0 });
  });

  it("sends nothing for an empty change, and names a service it cannot find", async () => {
    const calls = recordCalls(t.aws.ecs);
    await fleet.update("blue", {});
    expect(calls).toEqual([]);
    const lost = new EcsFleet({ ecs: t.aws.ecs, elbv2: t.aws.elbv2, cluster: t.world.clusterName, services: { blue: "nope", green: "nope" }, targetGroups: t.world.targetGroups });
    await expect(lost.describe("blue")).rejects.toThrow(`ECS service nope (blue) in ${t.world.clusterName}: MISSING`);
  });
});
