import {
  ClientException,
  ClusterNotFoundException,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  InvalidParameterException,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  ServiceNotFoundException,
  StopTaskCommand,
  UpdateServiceCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator, type AwsEmulator, type SampleWorld } from "./index.ts";
import { clients, describeService, get, sampleVersion, waitFor, waitSteady } from "./test-helpers.ts";

let emu: AwsEmulator;
let world: SampleWorld;
let ecs: ReturnType<typeof clients>["ecs"];
let elb: ReturnType<typeof clients>["elb"];

beforeAll(async () => {
  emu = await startAwsEmulator({ healthCheckIntervalMs: 50 });
  world = await emu.seedSampleWorld();
  ({ ecs, elb } = clients(emu));
});
afterAll(() => emu.close());

const commandTaskDefinition = async () =>
  (
    await ecs.send(
      new RegisterTaskDefinitionCommand({ family: "shard", containerDefinitions: [{ name: "runner", image: "node:24", command: ["sh", "-c", "exit 0"] }] }),
    )
  ).taskDefinition?.taskDefinitionArn ?? "";

async function waitStopped(taskArn: string): Promise<Task> {
  return waitFor(`task ${taskArn} stopped`, async () => {
    const task = (await ecs.send(new DescribeTasksCommand({ cluster: world.clusterArn, tasks: [taskArn] }))).tasks?.[0];
    return task?.lastStatus === "STOPPED" && task;
  });
}

describe("ECS task definitions", () => {
  it("registers revisions and describes them by family, family:revision and ARN", async () => {
    const a = await ecs.send(new RegisterTaskDefinitionCommand({ family: "web", containerDefinitions: [{ name: "app", image: "img:1" }] }));
    const b = await ecs.send(new RegisterTaskDefinitionCommand({ family: "web", containerDefinitions: [{ name: "app", image: "img:2" }] }));
    expect(a.taskDefinition?.revision).toBe(1);
    expect(b.taskDefinition?.taskDefinitionArn).toBe(`arn:aws:ecs:us-east-1:${emu.accountId}:task-definition/web:2`);
    expect(b.taskDefinition?.registeredAt).toBeInstanceOf(Date);
    for (const [ref, image] of [
      ["web", "img:2"],
      ["web:1", "img:1"],
      [a.taskDefinition?.taskDefinitionArn ?? "", "img:1"],
    ]) {
      const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ref }));
      expect(out.taskDefinition?.containerDefinitions?.[0]?.image).toBe(image);
    }
  });

  it("rejects unknown task definitions and empty container lists", async () => {
    await expect(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "nope:7" }))).rejects.toBeInstanceOf(ClientException);
    await expect(ecs.send(new RegisterTaskDefinitionCommand({ family: "x", containerDefinitions: [] }))).rejects.toBeInstanceOf(ClientException);
  });
});

describe("ECS services", () => {
  it("runs the seeded blue service as real processes registered in its target group", async () => {
    const blue = await waitSteady(ecs, world, world.services.blue.name);
    expect(blue).toMatchObject({ desiredCount: 2, runningCount: 2, pendingCount: 0, taskDefinition: world.taskDefinitionArn });
    expect(blue.loadBalancers).toEqual([{ targetGroupArn: world.targetGroups.blue, containerName: "app", containerPort: 8080 }]);
    const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.blue }));
    const tasks = await ecs.send(new ListTasksCommand({ cluster: world.clusterArn, serviceName: world.services.blue.name }));
    const described = await ecs.send(new DescribeTasksCommand({ cluster: world.clusterArn, tasks: tasks.taskArns }));
    const ports = described.tasks?.map((t) => t.containers?.[0]?.networkBindings?.[0]?.hostPort).toSorted();
    expect(health.TargetHealthDescriptions?.map((d) => d.Target?.Port).toSorted()).toEqual(ports);
    for (const port of ports ?? []) expect((await get(`http://127.0.0.1:${port}/`)).version).toBe("v1");
  });

  it("rolls a new task definition out: new PRIMARY deployment, old tasks stop once new ones are healthy", async () => {
    const v2 = await sampleVersion(emu, ecs, "v2", { version: "v2" });
    await ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, taskDefinition: world.taskDefinitionArn, desiredCount: 1 }));
    await waitSteady(ecs, world, world.services.green.name);
    const oldTasks = (await ecs.send(new ListTasksCommand({ cluster: world.clusterArn, serviceName: world.services.green.name }))).taskArns ?? [];

    const updated = await ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, taskDefinition: v2, desiredCount: 2 }));
    expect(updated.service?.deployments?.map((d) => [d.status, d.rolloutState, d.taskDefinition])).toEqual([
      ["PRIMARY", "IN_PROGRESS", v2],
      ["ACTIVE", "COMPLETED", world.taskDefinitionArn],
    ]);

    const steady = await waitSteady(ecs, world, world.services.green.name);
    expect(steady).toMatchObject({ taskDefinition: v2, runningCount: 2, desiredCount: 2 });
    expect(steady.events?.[0]?.message).toContain("has reached a steady state");
    for (const arn of oldTasks) {
      const task = await waitStopped(arn);
      expect(task.stopCode).toBe("ServiceSchedulerInitiated");
    }
    const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.green }));
    expect(health.TargetHealthDescriptions).toHaveLength(2);
    for (const d of health.TargetHealthDescriptions ?? []) expect((await get(`http://127.0.0.1:${d.Target?.Port}/`)).version).toBe("v2");

    await ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, desiredCount: 0 }));
    await waitFor("green scaled to 0", async () => (await describeService(ecs, world, world.services.green.name)).runningCount === 0);
    expect((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.green }))).TargetHealthDescriptions).toEqual([]);
  });

  it("reports missing services and clusters, and rejects bad updates", async () => {
    const out = await ecs.send(new ListTasksCommand({ cluster: world.clusterName }));
    expect(out.taskArns?.length).toBeGreaterThan(0);
    const described = await ecs.send(new DescribeServicesCommand({ cluster: world.clusterArn, services: ["ghost"] }));
    expect(described.failures).toEqual([{ arn: `arn:aws:ecs:us-east-1:${emu.accountId}:service/gantry-sample/ghost`, reason: "MISSING" }]);
    await expect(ecs.send(new ListTasksCommand({ cluster: "nope" }))).rejects.toBeInstanceOf(ClusterNotFoundException);
    await expect(ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: "ghost", desiredCount: 1 }))).rejects.toBeInstanceOf(
      ServiceNotFoundException,
    );
    await expect(
      ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.blue.name, desiredCount: -1 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.blue.name, taskDefinition: "missing:1" })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });
});

describe("ECS tasks", () => {
  it("runs a command override as a process and stops with its exit code", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ecs-task-"));
    const out = await ecs.send(
      new RunTaskCommand({
        cluster: world.clusterArn,
        taskDefinition: await commandTaskDefinition(),
        startedBy: "gantry-ci",
        overrides: {
          containerOverrides: [{ name: "runner", command: [`echo "$SHARD" > ${join(dir, "out")}; exit 3`], environment: [{ name: "SHARD", value: "2/4" }] }],
        },
      }),
    );
    const arn = out.tasks?.[0]?.taskArn ?? "";
    const stopped = await waitStopped(arn);
    expect(stopped.containers?.[0]?.exitCode).toBe(3);
    expect(stopped.stopCode).toBe("EssentialContainerExited");
    expect(readFileSync(join(dir, "out"), "utf8")).toBe("2/4\n");
    const listed = await ecs.send(new ListTasksCommand({ cluster: world.clusterArn, startedBy: "gantry-ci", desiredStatus: "STOPPED" }));
    expect(listed.taskArns).toEqual([arn]);
  });

  it("stops a running task on request, killing its process", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ecs-task-"));
    const marker = join(dir, "finished");
    const out = await ecs.send(
      new RunTaskCommand({
        cluster: world.clusterArn,
        taskDefinition: await commandTaskDefinition(),
        overrides: { containerOverrides: [{ name: "runner", command: [`sleep 30; touch ${marker}`] }] },
      }),
    );
    const arn = out.tasks?.[0]?.taskArn ?? "";
    await waitFor("running", async () => (await ecs.send(new DescribeTasksCommand({ cluster: world.clusterArn, tasks: [arn] }))).tasks?.[0]?.lastStatus === "RUNNING");
    const stop = await ecs.send(new StopTaskCommand({ cluster: world.clusterArn, task: arn, reason: "cancelled" }));
    expect(stop.task?.desiredStatus).toBe("STOPPED");
    const stopped = await waitStopped(arn);
    expect(stopped).toMatchObject({ stopCode: "UserInitiated", stoppedReason: "cancelled" });
    expect(stopped.containers?.[0]?.exitCode).toBe(143);
    expect(existsSync(marker)).toBe(false);
    await expect(ecs.send(new StopTaskCommand({ cluster: world.clusterArn, task: "0123456789abcdef" }))).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it("fails to start a task whose image is not in the registry", async () => {
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "ghost",
        containerDefinitions: [{ name: "app", image: `${emu.accountId}.dkr.ecr.us-east-1.amazonaws.com/sample-app:does-not-exist` }],
      }),
    );
    const out = await ecs.send(new RunTaskCommand({ cluster: world.clusterArn, taskDefinition: td.taskDefinition?.taskDefinitionArn }));
    const stopped = await waitStopped(out.tasks?.[0]?.taskArn ?? "");
    expect(stopped.stopCode).toBe("TaskFailedToStart");
    expect(stopped.stoppedReason).toContain("CannotPullContainerError");
    await expect(ecs.send(new RunTaskCommand({ cluster: world.clusterArn, taskDefinition: "ghost", count: 11 }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    const missing = await ecs.send(new DescribeTasksCommand({ cluster: world.clusterArn, tasks: ["nope"] }));
    expect(missing.failures).toEqual([{ arn: "nope", reason: "MISSING" }]);
  });
});
