import { type CloudWatchLogsClient, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeTasksCommand, type ECSClient, RunTaskCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import type { Executor, ShardLaunch, ShardProcessStatus } from "./executor.ts";

/** The operator's settings (server environment): where shards run and where their logs go. */
export interface EcsExecutorSettings {
  cluster: string;
  taskDefinition: string;
  /** The container of the task definition that runs the shard runner. */
  container: string;
  subnets: string[];
  securityGroups: string[];
  /** The shard runner's command in the CI image, run by `sh -c`. */
  runnerCommand: string;
  /** The task definition's `awslogs-group` and `awslogs-stream-prefix`. */
  logGroup: string;
  logStreamPrefix: string;
  /** Tasks at once, across every replica. */
  maxTasks: number;
}

/**
 * Shards as ECS tasks on Fargate: `RunTask` of the configured task definition with the shard
 * runner as the container's command and the launch's values as its environment; `DescribeTasks` to
 * follow, `StopTask` to cancel, logs from CloudWatch Logs (the task definition's awslogs driver).
 * Gantry's own AWS identity makes these calls: a repository never chooses the cluster or the role.
 */
export class EcsExecutor implements Executor {
  readonly name = "ecs";
  readonly perReplica = false;
  readonly slots: number;
  readonly #ecs: ECSClient;
  readonly #logs: CloudWatchLogsClient;
  readonly #settings: EcsExecutorSettings;

  constructor(settings: EcsExecutorSettings, clients: { ecs: ECSClient; logs: CloudWatchLogsClient }) {
    this.#settings = settings;
    this.slots = settings.maxTasks;
    this.#ecs = clients.ecs;
    this.#logs = clients.logs;
  }

  async start(launch: ShardLaunch): Promise<string> {
    const { cluster, taskDefinition, container, subnets, securityGroups, runnerCommand } = this.#settings;
    const { tasks = [], failures = [] } = await this.#ecs.send(
      new RunTaskCommand({
        cluster,
        taskDefinition,
        launchType: "FARGATE",
        count: 1,
        startedBy: "gantry-ci",
        ...(subnets.length > 0 ? { networkConfiguration: { awsvpcConfiguration: { subnets, securityGroups, assignPublicIp: "DISABLED" } } } : {}),
        overrides: {
          containerOverrides: [
            {
              name: container,
              command: ["sh", "-c", runnerCommand],
              environment: [
                { name: "GANTRY_CI_URL", value: launch.callbackUrl },
                { name: "GANTRY_CI_SHARD", value: launch.shardId },
                { name: "GANTRY_CI_TOKEN", value: launch.token },
              ],
            },
          ],
        },
      }),
    );
    const arn = tasks[0]?.taskArn;
    if (!arn) throw new Error(`RunTask started no task: ${failures.map((failure) => `${failure.reason ?? "unknown"}${failure.detail ? ` (${failure.detail})` : ""}`).join("; ") || "no reason given"}`);
    return arn;
  }

  async status(handle: string): Promise<ShardProcessStatus> {
    const { tasks = [] } = await this.#ecs.send(new DescribeTasksCommand({ cluster: this.#settings.cluster, tasks: [handle] }));
    const task = tasks[0];
    if (!task) return { state: "unknown" };
    if (task.lastStatus !== "STOPPED") return { state: "running" };
    const container = task.containers?.find((candidate) => candidate.name === this.#settings.container) ?? task.containers?.[0];
    return { state: "ended", ...(container?.exitCode === undefined ? {} : { exitCode: container.exitCode }), ...(task.stoppedReason ? { reason: task.stoppedReason } : {}) };
  }

  async cancel(handle: string): Promise<void> {
    await this.#ecs.send(new StopTaskCommand({ cluster: this.#settings.cluster, task: handle, reason: "Cancelled by Gantry (a newer push, or a timeout)" }));
  }

  async logs(handle: string, maxBytes: number): Promise<string> {
    const taskId = handle.split("/").at(-1)!;
    const logStreamName = `${this.#settings.logStreamPrefix}/${this.#settings.container}/${taskId}`;
    const lines: string[] = [];
    let size = 0;
    let nextToken: string | undefined;
    for (let page = 0; page < 20; page++) {
      const answer = await this.#logs.send(new GetLogEventsCommand({ logGroupName: this.#settings.logGroup, logStreamName, startFromHead: true, ...(nextToken ? { nextToken } : {}) }));
      for (const event of answer.events ?? []) {
        lines.push(event.message ?? "");
        size += (event.message ?? "").length + 1;
      }
      if (!answer.nextForwardToken || answer.nextForwardToken === nextToken || (answer.events ?? []).length === 0) break;
      nextToken = answer.nextForwardToken;
    }
    const text = lines.join("\n");
    return size > maxBytes ? text.slice(text.length - maxBytes) : text;
  }

  async close(): Promise<void> {
    this.#ecs.destroy();
    this.#logs.destroy();
  }
}
