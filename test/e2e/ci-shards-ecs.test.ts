// The same flow with shards as ECS tasks: the executor calls the AWS emulator through the real SDK,
// the emulated tasks run the shard runner as real processes, and logs come from CloudWatch Logs.
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EcsExecutor } from "../../src/ci/executors/ecs-executor.ts";
import { SHARD_RUNNER } from "../../src/ci/executors/local-executor.ts";
import { startAwsEmulator, type AwsEmulator } from "../world/aws/index.ts";
import { FAILING_STRINGS, SLOW_TEST, startCiWorld, type CiWorld } from "./ci-world.ts";
import { eventually } from "./world.ts";

describe("test shards on the ECS executor", { timeout: 180_000 }, () => {
  let aws: AwsEmulator;
  let world: CiWorld;
  beforeAll(async () => {
    aws = await startAwsEmulator();
    aws.createCluster("ci");
    const ecs = new ECSClient(aws.clientConfig());
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "gantry-ci",
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: "1024",
        memory: "2048",
        containerDefinitions: [{ name: "ci", image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/ci:node24", logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/gantry/ci", "awslogs-stream-prefix": "gantry-ci", "awslogs-region": "us-east-1" } } }],
      }),
    );
    const executor = new EcsExecutor(
      {
        cluster: "ci",
        taskDefinition: "gantry-ci",
        container: "ci",
        subnets: ["subnet-0123456789abcdef0"],
        securityGroups: ["sg-0123456789abcdef0"],
        runnerCommand: `${process.execPath} ${SHARD_RUNNER}`,
        logGroup: "/gantry/ci",
        logStreamPrefix: "gantry-ci",
        maxTasks: 4,
      },
      { ecs, logs: new CloudWatchLogsClient(aws.clientConfig()) },
    );
    world = await startCiWorld({ executor });
  });
  afterAll(async () => {
    await world?.close();
    await aws?.close();
  });

  it("runs the shards as Fargate tasks, reports green, and links each shard's CloudWatch log", async () => {
    const sha = await world.push("main");
    expect((await world.completed(sha, "gantry/test")).conclusion).toBe("success");
    const shard = await world.completed(sha, "gantry/test (1/2)");
    const runTasks = aws.calls.filter((call) => call.service === "ecs" && call.operation === "RunTask");
    expect(runTasks).toHaveLength(2);
    expect(runTasks[0]!.input).toMatchObject({ launchType: "FARGATE", networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-0123456789abcdef0"] } } });
    const log = await fetch(shard.detailsUrl!);
    expect(log.status).toBe(200);
    expect(await log.text()).toContain("node --test");
  });

  it("annotates a failing test at its line", async () => {
    const sha = await world.push("main", { "src/strings.mjs": FAILING_STRINGS });
    expect((await world.completed(sha, "gantry/test")).conclusion).toBe("failure");
    const failed = world.checkRuns(sha).find((run) => run.conclusion === "failure" && run.name !== "gantry/test");
    expect(failed?.output.annotations).toEqual([expect.objectContaining({ path: "test/strings.test.mjs", start_line: 6 })]);
  });

  it("stops a superseded run's tasks with StopTask", async () => {
    const slow = await world.push("main", { "test/slow.test.mjs": SLOW_TEST });
    await eventually("the slow run's tasks to run", async () => {
      const run = await world.store.latestRunForSha(world.repo.id, slow);
      const shards = run ? await world.store.shards(run.id) : [];
      return shards.length > 0 && shards.every((shard) => shard.handle !== null) ? shards : undefined;
    });
    const newer = await world.push("main");
    expect((await world.completed(slow, "gantry/test")).conclusion).toBe("cancelled");
    await eventually("StopTask for both shards", () => (aws.calls.filter((call) => call.operation === "StopTask").length >= 2 ? true : undefined));
    expect((await world.completed(newer, "gantry/test")).conclusion).toBe("success");
  });
});
