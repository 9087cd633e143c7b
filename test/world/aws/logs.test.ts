// CloudWatch Logs through the real SDK: a one-off task whose container uses the awslogs driver
// writes its output to `<prefix>/<container>/<task id>`, read back with GetLogEvents.
import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator, type AwsEmulator } from "./index.ts";
import { waitFor } from "./test-helpers.ts";

describe("CloudWatch Logs of one-off tasks", () => {
  let emu: AwsEmulator;
  let ecs: ECSClient;
  let logs: CloudWatchLogsClient;
  beforeAll(async () => {
    emu = await startAwsEmulator();
    ecs = new ECSClient(emu.clientConfig());
    logs = new CloudWatchLogsClient(emu.clientConfig());
    emu.createCluster("ci");
  });
  afterAll(async () => {
    await emu?.close();
  });

  it("keeps each line a task prints, in order, and pages through them", async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "ci-runner",
        containerDefinitions: [{ name: "ci", image: "ci:latest", logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/gantry/ci", "awslogs-stream-prefix": "shards", "awslogs-region": "us-east-1" } } }],
      }),
    );
    const { tasks = [] } = await ecs.send(
      new RunTaskCommand({ cluster: "ci", taskDefinition: "ci-runner", launchType: "FARGATE", overrides: { containerOverrides: [{ name: "ci", command: ["sh", "-c", "echo one; echo two >&2; echo three; exit 3"] }] } }),
    );
    const arn = tasks[0]!.taskArn!;
    const stopped = await waitFor("the task to stop", async () => {
      const task = (await ecs.send(new DescribeTasksCommand({ cluster: "ci", tasks: [arn] }))).tasks?.[0];
      return task?.lastStatus === "STOPPED" ? task : undefined;
    });
    expect(stopped.containers?.[0]?.exitCode).toBe(3);
    const stream = { logGroupName: "/gantry/ci", logStreamName: `shards/ci/${arn.split("/").pop()}` };
    const all = await logs.send(new GetLogEventsCommand({ ...stream, startFromHead: true }));
    expect(all.events?.map((event) => event.message).toSorted()).toEqual(["one", "three", "two"]);
    const first = await logs.send(new GetLogEventsCommand({ ...stream, startFromHead: true, limit: 1 }));
    expect(first.events).toHaveLength(1);
    const next = await logs.send(new GetLogEventsCommand({ ...stream, nextToken: first.nextForwardToken, limit: 5 }));
    expect(next.events).toHaveLength(2);
    await expect(logs.send(new GetLogEventsCommand({ logGroupName: "/gantry/ci", logStreamName: "shards/ci/none" }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
