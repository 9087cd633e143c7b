// ECS: clusters, task definitions, services with rolling deployments, and tasks that are real
// local processes. Service tasks are registered in their target groups and drained on stop.
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { behaviourFromManifest } from "../sample-service/behaviour.ts";
import type { Ecr } from "./ecr.ts";
import type { CloudWatchLogs } from "./logs.ts";
import { randomHex } from "./ids.ts";
import { startProcess, stopAll, type ContainerProcess } from "./processes.ts";
import { AwsError, epochSeconds } from "./protocols.ts";
import type { TargetGroup } from "./targets.ts";

interface KeyValue {
  name?: string;
  value?: string;
}

interface ContainerDefinition {
  name?: string;
  image?: string;
  command?: string[];
  environment?: KeyValue[];
  workingDirectory?: string;
  logConfiguration?: { logDriver?: string; options?: Record<string, string> };
  portMappings?: { containerPort?: number; hostPort?: number; protocol?: string }[];
  [key: string]: unknown;
}

interface TaskDefinition {
  arn: string;
  family: string;
  revision: number;
  registeredAt: Date;
  containerDefinitions: ContainerDefinition[];
  input: Record<string, unknown>;
}

interface ContainerOverride {
  name?: string;
  command?: string[];
  environment?: KeyValue[];
}

interface Task {
  arn: string;
  clusterArn: string;
  taskDefinition: TaskDefinition;
  group: string;
  startedBy?: string;
  overrides: { containerOverrides?: ContainerOverride[] };
  serviceName?: string;
  deploymentId?: string;
  createdAt: Date;
  startedAt?: Date;
  stoppingAt?: Date;
  stoppedAt?: Date;
  lastStatus: string;
  desiredStatus: "RUNNING" | "STOPPED";
  stopCode?: string;
  stoppedReason?: string;
  exitCode?: number;
  containerReason?: string;
  port?: number;
  process?: ContainerProcess;
  /** Target groups the task is registered in. */
  targetGroupArns: string[];
}

interface LoadBalancerRef {
  targetGroupArn?: string;
  containerName?: string;
  containerPort?: number;
}

interface Deployment {
  id: string;
  status: "PRIMARY" | "ACTIVE";
  taskDefinition: TaskDefinition;
  desiredCount: number;
  rolloutState: "IN_PROGRESS" | "COMPLETED" | "FAILED";
  rolloutStateReason: string;
  failedTasks: number;
  createdAt: Date;
  updatedAt: Date;
}

export type DeploymentControllerType = "ECS" | "CODE_DEPLOY" | "EXTERNAL";

export interface CircuitBreaker {
  enable: boolean;
  rollback: boolean;
}

interface Service {
  arn: string;
  deploymentController: DeploymentControllerType;
  circuitBreaker: CircuitBreaker;
  /** The task definition of the last deployment that completed: where the circuit breaker rolls back to. */
  lastCompleted?: TaskDefinition;
  name: string;
  clusterArn: string;
  desiredCount: number;
  taskDefinition: TaskDefinition;
  loadBalancers: LoadBalancerRef[];
  healthCheckGracePeriodSeconds: number;
  deployments: Deployment[];
  events: { id: string; createdAt: Date; message: string }[];
  createdAt: Date;
}

interface Cluster {
  arn: string;
  name: string;
  services: Map<string, Service>;
  tasks: Map<string, Task>;
}

export interface EcsDeps {
  region: string;
  accountId: string;
  ecr: Ecr;
  targetGroup(arn: string): TargetGroup | undefined;
  logs: CloudWatchLogs;
}

const SAMPLE_SERVER = fileURLToPath(new URL("../sample-service/server.ts", import.meta.url));
const RECONCILE_MS = 50;

export class Ecs {
  readonly #deps: EcsDeps;
  readonly #prefix: string;
  readonly #clusters = new Map<string, Cluster>();
  readonly #taskDefinitions = new Map<string, TaskDefinition[]>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(deps: EcsDeps) {
    this.#deps = deps;
    this.#prefix = `arn:aws:ecs:${deps.region}:${deps.accountId}`;
    this.#timer = setInterval(() => this.#reconcileAll(), RECONCILE_MS);
    this.#timer.unref();
  }

  createCluster(name: string): string {
    const arn = `${this.#prefix}:cluster/${name}`;
    if (!this.#clusters.has(name)) this.#clusters.set(name, { arn, name, services: new Map(), tasks: new Map() });
    return arn;
  }

  createService(input: {
    cluster: string;
    serviceName: string;
    taskDefinition: string;
    desiredCount: number;
    loadBalancers: LoadBalancerRef[];
    healthCheckGracePeriodSeconds?: number;
    deploymentController?: DeploymentControllerType;
    circuitBreaker?: CircuitBreaker;
  }): string {
    const cluster = this.#cluster(input.cluster);
    const taskDefinition = this.#taskDefinition(input.taskDefinition, "InvalidParameterException", "TaskDefinition not found.");
    for (const lb of input.loadBalancers) {
      if (!this.#deps.targetGroup(lb.targetGroupArn ?? "")) throw new AwsError("InvalidParameterException", `Unable to find target group '${lb.targetGroupArn}'`);
    }
    const now = new Date();
    const service: Service = {
      arn: `${this.#prefix}:service/${cluster.name}/${input.serviceName}`,
      name: input.serviceName,
      deploymentController: input.deploymentController ?? "ECS",
      circuitBreaker: input.circuitBreaker ?? { enable: false, rollback: false },
      clusterArn: cluster.arn,
      desiredCount: input.desiredCount,
      taskDefinition,
      loadBalancers: input.loadBalancers,
      healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds ?? 0,
      deployments: [this.#newDeployment(taskDefinition, input.desiredCount, now)],
      events: [],
      createdAt: now,
    };
    cluster.services.set(service.name, service);
    this.#reconcile(cluster, service);
    return service.arn;
  }

  /** What CreateService would have set: the deployment controller (fixed for a service's life here) and the circuit breaker. */
  configureService(clusterRef: string, serviceName: string, settings: { deploymentController?: DeploymentControllerType; circuitBreaker?: CircuitBreaker }): void {
    const service = this.#service(this.#cluster(clusterRef), serviceName);
    if (settings.deploymentController) service.deploymentController = settings.deploymentController;
    if (settings.circuitBreaker) service.circuitBreaker = settings.circuitBreaker;
  }

  registerTaskDefinition(input: Record<string, unknown>) {
    const family = input.family;
    if (typeof family !== "string" || !/^[A-Za-z0-9_-]{1,255}$/.test(family)) {
      throw new AwsError("ClientException", "Family must be 1-255 letters, numbers, hyphens and underscores.");
    }
    const containers = (input.containerDefinitions ?? []) as ContainerDefinition[];
    if (!Array.isArray(containers) || containers.length === 0) throw new AwsError("ClientException", "Container list cannot be empty.");
    for (const c of containers) {
      if (!c.name) throw new AwsError("ClientException", "Container.name should not be null or empty.");
      if (!c.image) throw new AwsError("ClientException", "Container.image should not be null or empty.");
    }
    const revisions = this.#taskDefinitions.get(family) ?? [];
    const revision = revisions.length + 1;
    const td: TaskDefinition = {
      arn: `${this.#prefix}:task-definition/${family}:${revision}`,
      family,
      revision,
      registeredAt: new Date(),
      containerDefinitions: containers,
      input,
    };
    this.#taskDefinitions.set(family, [...revisions, td]);
    return { taskDefinition: describeTaskDefinition(td), tags: input.tags };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    const processes = [...this.#clusters.values()].flatMap((c) => [...c.tasks.values()]).flatMap((t) => (t.process ? [t.process] : []));
    await stopAll(processes);
  }

  handlers(): Record<string, (input: never) => unknown> {
    return {
      RegisterTaskDefinition: (i: Record<string, unknown>) => this.registerTaskDefinition(i),
      DescribeTaskDefinition: (i: { taskDefinition?: string; include?: string[] }) => {
        const td = this.#taskDefinition(i.taskDefinition ?? "", "ClientException", "Unable to describe task definition.");
        return { taskDefinition: describeTaskDefinition(td), tags: i.include?.includes("TAGS") ? (td.input.tags ?? []) : undefined };
      },
      DescribeServices: (i: { cluster?: string; services?: string[] }) => {
        const cluster = this.#cluster(i.cluster);
        if (!i.services?.length || i.services.length > 10) throw new AwsError("InvalidParameterException", "services must contain between 1 and 10 names");
        const services = [];
        const failures = [];
        for (const ref of i.services) {
          const service = this.#findService(cluster, ref);
          if (service) services.push(this.#describeService(cluster, service));
          else failures.push({ arn: ref.startsWith("arn:") ? ref : `${this.#prefix}:service/${cluster.name}/${ref}`, reason: "MISSING" });
        }
        return { services, failures };
      },
      UpdateService: (i: {
        cluster?: string;
        service?: string;
        desiredCount?: number;
        taskDefinition?: string;
        forceNewDeployment?: boolean;
        healthCheckGracePeriodSeconds?: number;
        deploymentConfiguration?: { deploymentCircuitBreaker?: { enable?: boolean; rollback?: boolean } };
      }) => {
        const cluster = this.#cluster(i.cluster);
        const service = this.#service(cluster, i.service ?? "");
        // As on AWS: under CODE_DEPLOY a new task definition goes through CodeDeploy, under EXTERNAL through task sets.
        if (i.taskDefinition !== undefined && service.deploymentController !== "ECS") {
          throw new AwsError(
            "InvalidParameterException",
            service.deploymentController === "CODE_DEPLOY"
              ? "Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment."
              : "Unable to update task definition on services with a EXTERNAL deployment controller. Use task sets to deploy a new task definition.",
          );
        }
        if (i.forceNewDeployment && service.deploymentController !== "ECS") {
          throw new AwsError("InvalidParameterException", `Unable to force a new deployment on services with a ${service.deploymentController} deployment controller.`);
        }
        const breaker = i.deploymentConfiguration?.deploymentCircuitBreaker;
        if (breaker) service.circuitBreaker = { enable: breaker.enable === true, rollback: breaker.rollback === true };
        if (i.desiredCount !== undefined && (!Number.isInteger(i.desiredCount) || i.desiredCount < 0)) {
          throw new AwsError("InvalidParameterException", "desiredCount must be a non-negative integer.");
        }
        const td = i.taskDefinition === undefined ? undefined : this.#taskDefinition(i.taskDefinition, "InvalidParameterException", "TaskDefinition not found.");
        const now = new Date();
        if (i.desiredCount !== undefined) service.desiredCount = i.desiredCount;
        if (i.healthCheckGracePeriodSeconds !== undefined) service.healthCheckGracePeriodSeconds = i.healthCheckGracePeriodSeconds;
        if ((td && td.arn !== service.taskDefinition.arn) || i.forceNewDeployment) {
          service.taskDefinition = td ?? service.taskDefinition;
          for (const d of service.deployments) d.status = "ACTIVE";
          service.deployments.unshift(this.#newDeployment(service.taskDefinition, service.desiredCount, now));
        } else if (i.desiredCount !== undefined) {
          const primary = service.deployments[0] as Deployment;
          primary.desiredCount = i.desiredCount;
          primary.updatedAt = now;
        }
        this.#reconcile(cluster, service);
        return { service: this.#describeService(cluster, service) };
      },
      RunTask: (i: {
        cluster?: string;
        taskDefinition?: string;
        count?: number;
        startedBy?: string;
        group?: string;
        overrides?: { containerOverrides?: ContainerOverride[] };
      }) => {
        const cluster = this.#cluster(i.cluster);
        const td = this.#taskDefinition(i.taskDefinition ?? "", "InvalidParameterException", "TaskDefinition not found.");
        const count = i.count ?? 1;
        if (!Number.isInteger(count) || count < 1 || count > 10) throw new AwsError("InvalidParameterException", "count must be between 1 and 10.");
        const tasks = Array.from({ length: count }, () => {
          const task = this.#newTask(cluster, td, { group: i.group ?? `family:${td.family}`, startedBy: i.startedBy, overrides: i.overrides ?? {} });
          void this.#launch(task);
          return task;
        });
        return { tasks: tasks.map((t) => describeTask(t)), failures: [] };
      },
      DescribeTasks: (i: { cluster?: string; tasks?: string[] }) => {
        const cluster = this.#cluster(i.cluster);
        if (!i.tasks?.length || i.tasks.length > 100) throw new AwsError("InvalidParameterException", "tasks must contain between 1 and 100 ids");
        const tasks = [];
        const failures = [];
        for (const ref of i.tasks) {
          const task = this.#findTask(cluster, ref);
          if (task) tasks.push(describeTask(task));
          else failures.push({ arn: ref, reason: "MISSING" });
        }
        return { tasks, failures };
      },
      StopTask: (i: { cluster?: string; task?: string; reason?: string }) => {
        const cluster = this.#cluster(i.cluster);
        const task = this.#findTask(cluster, i.task ?? "");
        if (!task) throw new AwsError("InvalidParameterException", "The referenced task was not found.");
        void this.#stop(task, "UserInitiated", i.reason ?? "Task stopped by user");
        return { task: describeTask(task) };
      },
      ListTasks: (i: { cluster?: string; serviceName?: string; family?: string; startedBy?: string; desiredStatus?: string }) => {
        const cluster = this.#cluster(i.cluster);
        const service = i.serviceName === undefined ? undefined : this.#service(cluster, i.serviceName);
        // As on AWS, only tasks meant to run are listed unless STOPPED is asked for.
        const desired = i.desiredStatus ?? "RUNNING";
        const taskArns = [...cluster.tasks.values()]
          .filter((t) => t.desiredStatus === desired)
          .filter((t) => !service || t.serviceName === service.name)
          .filter((t) => i.family === undefined || t.taskDefinition.family === i.family)
          .filter((t) => i.startedBy === undefined || t.startedBy === i.startedBy)
          .map((t) => t.arn);
        return { taskArns };
      },
    };
  }

  #newDeployment(taskDefinition: TaskDefinition, desiredCount: number, now: Date): Deployment {
    return {
      id: `ecs-svc/${Array.from({ length: 19 }, () => Math.floor(Math.random() * 10)).join("")}`,
      status: "PRIMARY",
      taskDefinition,
      desiredCount,
      rolloutState: "IN_PROGRESS",
      rolloutStateReason: "ECS deployment in progress.",
      failedTasks: 0,
      createdAt: now,
      updatedAt: now,
    };
  }

  #newTask(cluster: Cluster, td: TaskDefinition, opts: Pick<Task, "group" | "startedBy" | "overrides" | "serviceName" | "deploymentId">): Task {
    const task: Task = {
      ...opts,
      arn: `${this.#prefix}:task/${cluster.name}/${randomHex(32)}`,
      clusterArn: cluster.arn,
      taskDefinition: td,
      createdAt: new Date(),
      lastStatus: "PROVISIONING",
      desiredStatus: "RUNNING",
      targetGroupArns: [],
    };
    cluster.tasks.set(task.arn, task);
    return task;
  }

  /** Starts the task's container as a local process: its command if it has one, else the sample app of its image. */
  async #launch(task: Task): Promise<void> {
    const container = task.taskDefinition.containerDefinitions[0] as ContainerDefinition;
    const override = task.overrides.containerOverrides?.find((o) => o.name === container.name || o.name === undefined);
    const command = override?.command ?? container.command;
    const env = Object.fromEntries([...(container.environment ?? []), ...(override?.environment ?? [])].map((e) => [e.name ?? "", e.value ?? ""]));
    if (command?.length) {
      // A single string is a shell line; a list is argv, as Docker treats CMD.
      const [file, ...args] = command.length === 1 ? ["sh", "-c", command[0] as string] : command;
      this.#run(task, startProcess(file as string, args, { env, cwd: container.workingDirectory, ...this.#awslogs(task, container) }));
      return;
    }
    const manifest = this.#deps.ecr.resolveImageUri(container.image ?? "");
    const behaviour = manifest === undefined ? undefined : behaviourFromManifest(manifest);
    if (!behaviour) {
      this.#finish(task, "TaskFailedToStart", `CannotPullContainerError: pull image manifest has been retried 5 time(s): ${container.image}: not found`);
      return;
    }
    task.lastStatus = "PENDING";
    const port = await freePort();
    if (task.desiredStatus === "STOPPED" || this.#closed) {
      this.#finish(task, task.stopCode ?? "UserInitiated", task.stoppedReason ?? "Task stopped before it started");
      return;
    }
    task.port = port;
    this.#run(
      task,
      startProcess(process.execPath, [SAMPLE_SERVER], {
        env: { ...env, PORT: String(port), SAMPLE_BEHAVIOUR: JSON.stringify(behaviour), SAMPLE_TASK_ID: task.arn.split("/").pop() ?? "" },
        keepStdinOpen: true,
      }),
    );
    for (const lb of this.#serviceOf(task)?.loadBalancers ?? []) {
      this.#deps.targetGroup(lb.targetGroupArn ?? "")?.register("127.0.0.1", port);
      task.targetGroupArns.push(lb.targetGroupArn ?? "");
    }
  }

  /** The awslogs driver: each output line to `<group>` / `<stream-prefix>/<container>/<task id>`. */
  #awslogs(task: Task, container: ContainerDefinition): { onOutput?: (line: string) => void } {
    const options = container.logConfiguration?.logDriver === "awslogs" ? container.logConfiguration.options : undefined;
    const group = options?.["awslogs-group"];
    if (!group) return {};
    const stream = `${options["awslogs-stream-prefix"] ?? "ecs"}/${container.name}/${task.arn.split("/").pop()}`;
    return { onOutput: (line) => this.#deps.logs.append(group, stream, line) };
  }

  #run(task: Task, proc: ContainerProcess): void {
    task.process = proc;
    task.lastStatus = "RUNNING";
    task.startedAt = new Date();
    void proc.exited.then((code) => {
      task.exitCode = code;
      if (task.desiredStatus === "RUNNING") {
        // The container exited by itself: a finished one-off task or a crashed service task.
        task.desiredStatus = "STOPPED";
        task.stoppingAt = new Date();
        const deployment = this.#deploymentOf(task);
        if (deployment && code !== 0) deployment.failedTasks++;
        void this.#deregister(task).then(() => this.#finish(task, "EssentialContainerExited", "Essential container in task exited"));
      }
    });
  }

  async #stop(task: Task, stopCode: string, reason: string): Promise<void> {
    if (task.desiredStatus === "STOPPED") return;
    task.desiredStatus = "STOPPED";
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.stoppingAt = new Date();
    if (!task.process) return; // #launch sees the stop and finishes the task.
    task.lastStatus = "DEACTIVATING";
    await this.#deregister(task);
    task.lastStatus = "STOPPING";
    await task.process.stop();
    this.#finish(task, stopCode, reason);
  }

  async #deregister(task: Task): Promise<void> {
    const port = task.port;
    if (port === undefined) return;
    await Promise.all(task.targetGroupArns.map((arn) => this.#deps.targetGroup(arn)?.deregister("127.0.0.1", port)));
    task.targetGroupArns = [];
  }

  #finish(task: Task, stopCode: string, reason: string): void {
    task.desiredStatus = "STOPPED";
    task.lastStatus = "STOPPED";
    task.stopCode ??= stopCode;
    task.stoppedReason ??= reason;
    if (stopCode === "TaskFailedToStart") task.containerReason = reason;
    task.stoppingAt ??= new Date();
    task.stoppedAt = new Date();
    const deployment = this.#deploymentOf(task);
    if (deployment && stopCode === "TaskFailedToStart") deployment.failedTasks++;
  }

  #reconcileAll(): void {
    for (const cluster of this.#clusters.values()) for (const service of cluster.services.values()) this.#reconcile(cluster, service);
  }

  /** One step of the service scheduler: start and stop tasks toward the primary deployment, retire old ones. */
  #reconcile(cluster: Cluster, service: Service): void {
    if (this.#closed) return;
    const tasks = [...cluster.tasks.values()].filter((t) => t.serviceName === service.name);
    const alive = (d: Deployment) => tasks.filter((t) => t.deploymentId === d.id && t.desiredStatus === "RUNNING");
    const primary = service.deployments[0] as Deployment;

    for (const task of tasks) {
      const unhealthyIn = this.#unhealthyTargetGroup(service, task);
      if (unhealthyIn) {
        const deployment = this.#deploymentOf(task);
        if (deployment) deployment.failedTasks++;
        this.#event(service, `(service ${service.name}) (task ${task.arn.split("/").pop()}) failed ELB health checks in (target-group ${unhealthyIn})`);
        void this.#stop(task, "ServiceSchedulerInitiated", `Task failed ELB health checks in (target-group ${unhealthyIn})`);
      }
    }

    if (this.#tripBreaker(service, primary)) return this.#reconcile(cluster, service);

    const primaryTasks = alive(primary);
    if (primaryTasks.length < primary.desiredCount) {
      const started = Array.from({ length: primary.desiredCount - primaryTasks.length }, () => {
        const task = this.#newTask(cluster, primary.taskDefinition, {
          group: `service:${service.name}`,
          startedBy: primary.id,
          overrides: {},
          serviceName: service.name,
          deploymentId: primary.id,
        });
        void this.#launch(task);
        return task;
      });
      this.#event(service, `(service ${service.name}) has started ${started.length} tasks: ${started.map((t) => `(task ${t.arn.split("/").pop()})`).join(" ")}.`);
    } else if (primaryTasks.length > primary.desiredCount) {
      const extra = primaryTasks.slice(primary.desiredCount);
      for (const t of extra) void this.#stop(t, "ServiceSchedulerInitiated", `Scaling activity initiated by (deployment ${primary.id})`);
      this.#event(service, `(service ${service.name}) has stopped ${extra.length} running tasks.`);
    }

    const ready = alive(primary).filter((t) => this.#isReady(service, t)).length >= primary.desiredCount;
    if (ready) {
      for (const old of service.deployments.slice(1)) {
        for (const t of alive(old)) void this.#stop(t, "ServiceSchedulerInitiated", `Scaling activity initiated by (deployment ${old.id})`);
      }
    }
    // A deployment leaves once none of its tasks is still running or draining; one the circuit breaker
    // failed stays listed (ACTIVE, rolloutState FAILED) while the rollback it caused is in progress, as on ECS.
    const rollingBack = primary.rolloutState === "IN_PROGRESS";
    service.deployments = service.deployments.filter(
      (d) => d === primary || (rollingBack && d.rolloutState === "FAILED") || tasks.some((t) => t.deploymentId === d.id && t.lastStatus !== "STOPPED"),
    );
    const stopping = tasks.some((t) => t.desiredStatus === "STOPPED" && t.lastStatus !== "STOPPED");
    if (ready && !stopping && service.deployments.every((d) => d === primary || d.rolloutState === "FAILED") && rollingBack) {
      primary.rolloutState = "COMPLETED";
      primary.rolloutStateReason = "ECS deployment completed.";
      service.lastCompleted = primary.taskDefinition;
      primary.updatedAt = new Date();
      this.#event(service, `(service ${service.name}) has reached a steady state.`);
    }
  }

  /**
   * The deployment circuit breaker: once a deployment's failed tasks reach the threshold
   * (half the desired count, at least 3 and at most 200), it is FAILED and, with rollback on,
   * replaced by a deployment of the last completed task definition. True when it tripped now.
   */
  #tripBreaker(service: Service, primary: Deployment): boolean {
    const threshold = Math.min(200, Math.max(3, Math.ceil(primary.desiredCount / 2)));
    if (!service.circuitBreaker.enable || primary.rolloutState !== "IN_PROGRESS" || primary.failedTasks < threshold) return false;
    primary.rolloutState = "FAILED";
    primary.rolloutStateReason = "ECS deployment circuit breaker: tasks failed to start.";
    primary.updatedAt = new Date();
    this.#event(service, `(service ${service.name}) (deployment ${primary.id}) deployment failed: tasks failed to start.`);
    const back = service.lastCompleted;
    if (!service.circuitBreaker.rollback || !back || back.arn === primary.taskDefinition.arn) return false;
    service.taskDefinition = back;
    primary.status = "ACTIVE";
    const rollback = this.#newDeployment(back, service.desiredCount, new Date());
    service.deployments.unshift(rollback);
    this.#event(service, `(service ${service.name}) rolling back to deployment ${rollback.id} (task definition ${back.arn}).`);
    return true;
  }

  #isReady(service: Service, task: Task): boolean {
    if (task.lastStatus !== "RUNNING") return false;
    return service.loadBalancers.every((lb) => task.port !== undefined && this.#deps.targetGroup(lb.targetGroupArn ?? "")?.find("127.0.0.1", task.port)?.state === "healthy");
  }

  /** The target group in which a running task has failed its health checks, once past the grace period. */
  #unhealthyTargetGroup(service: Service, task: Task): string | undefined {
    if (task.lastStatus !== "RUNNING" || task.port === undefined || !task.startedAt) return undefined;
    if (Date.now() - task.startedAt.getTime() < service.healthCheckGracePeriodSeconds * 1000) return undefined;
    const port = task.port;
    return task.targetGroupArns.find((arn) => this.#deps.targetGroup(arn)?.find("127.0.0.1", port)?.state === "unhealthy");
  }

  #event(service: Service, message: string): void {
    service.events.unshift({ id: crypto.randomUUID(), createdAt: new Date(), message });
    service.events.length = Math.min(service.events.length, 100);
  }

  #serviceOf(task: Task): Service | undefined {
    if (!task.serviceName) return undefined;
    return [...this.#clusters.values()].find((c) => c.arn === task.clusterArn)?.services.get(task.serviceName);
  }

  #deploymentOf(task: Task): Deployment | undefined {
    return this.#serviceOf(task)?.deployments.find((d) => d.id === task.deploymentId);
  }

  #cluster(ref: string | undefined): Cluster {
    const name = (ref ?? "default").split("/").pop() ?? "";
    const cluster = this.#clusters.get(name);
    if (!cluster || (ref?.startsWith("arn:") && cluster.arn !== ref)) throw new AwsError("ClusterNotFoundException", "Cluster not found.");
    return cluster;
  }

  #findService(cluster: Cluster, ref: string): Service | undefined {
    const service = cluster.services.get(ref.split("/").pop() ?? "");
    return service && (!ref.startsWith("arn:") || service.arn === ref) ? service : undefined;
  }

  #service(cluster: Cluster, ref: string): Service {
    const service = this.#findService(cluster, ref);
    if (!service) throw new AwsError("ServiceNotFoundException", "Service not found.");
    return service;
  }

  #findTask(cluster: Cluster, ref: string): Task | undefined {
    const id = ref.split("/").pop() ?? "";
    return [...cluster.tasks.values()].find((t) => t.arn === ref || t.arn.endsWith(`/${id}`));
  }

  #taskDefinition(ref: string, code: string, message: string): TaskDefinition {
    const m = /^(?:arn:aws:ecs:[^:]+:\d+:task-definition\/)?([A-Za-z0-9_-]+)(?::(\d+))?$/.exec(ref);
    const revisions = m ? this.#taskDefinitions.get(m[1] ?? "") : undefined;
    const td = m?.[2] ? revisions?.[Number(m[2]) - 1] : revisions?.at(-1);
    if (!td) throw new AwsError(code, message);
    return td;
  }

  #describeService(cluster: Cluster, s: Service) {
    const tasks = [...cluster.tasks.values()].filter((t) => t.serviceName === s.name);
    const count = (status: string[], deploymentId?: string) =>
      tasks.filter((t) => status.includes(t.lastStatus) && (deploymentId === undefined || t.deploymentId === deploymentId)).length;
    const PENDING = ["PROVISIONING", "PENDING", "ACTIVATING"];
    return {
      serviceArn: s.arn,
      serviceName: s.name,
      clusterArn: s.clusterArn,
      loadBalancers: s.loadBalancers,
      status: "ACTIVE",
      desiredCount: s.desiredCount,
      runningCount: count(["RUNNING"]),
      pendingCount: count(PENDING),
      launchType: "FARGATE",
      taskDefinition: s.taskDefinition.arn,
      deploymentConfiguration: {
        maximumPercent: 200,
        minimumHealthyPercent: 100,
        deploymentCircuitBreaker: { ...s.circuitBreaker },
      },
      deployments: s.deployments.map((d) => ({
        id: d.id,
        status: d.status,
        taskDefinition: d.taskDefinition.arn,
        desiredCount: d.desiredCount,
        pendingCount: count(PENDING, d.id),
        runningCount: count(["RUNNING"], d.id),
        failedTasks: d.failedTasks,
        createdAt: epochSeconds(d.createdAt),
        updatedAt: epochSeconds(d.updatedAt),
        launchType: "FARGATE",
        rolloutState: d.rolloutState,
        rolloutStateReason: d.rolloutStateReason,
      })),
      events: s.events.map((e) => ({ id: e.id, createdAt: epochSeconds(e.createdAt), message: e.message })),
      createdAt: epochSeconds(s.createdAt),
      healthCheckGracePeriodSeconds: s.healthCheckGracePeriodSeconds,
      schedulingStrategy: "REPLICA",
      deploymentController: { type: s.deploymentController },
    };
  }
}

function describeTaskDefinition(td: TaskDefinition) {
  const { tags: _tags, ...input } = td.input;
  return {
    ...input,
    taskDefinitionArn: td.arn,
    family: td.family,
    revision: td.revision,
    status: "ACTIVE",
    compatibilities: ["EC2", "FARGATE"],
    registeredAt: epochSeconds(td.registeredAt),
  };
}

function describeTask(t: Task) {
  const container = t.taskDefinition.containerDefinitions[0] as ContainerDefinition;
  const containerPort = container.portMappings?.[0]?.containerPort;
  return {
    taskArn: t.arn,
    clusterArn: t.clusterArn,
    taskDefinitionArn: t.taskDefinition.arn,
    group: t.group,
    startedBy: t.startedBy,
    overrides: { containerOverrides: t.overrides.containerOverrides ?? [], inferenceAcceleratorOverrides: [] },
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    launchType: "FARGATE",
    createdAt: at(t.createdAt),
    startedAt: at(t.startedAt),
    stoppingAt: at(t.stoppingAt),
    stoppedAt: at(t.stoppedAt),
    stopCode: t.stopCode,
    stoppedReason: t.stoppedReason,
    containers: [
      {
        containerArn: `${t.arn.replace(":task/", ":container/")}/${container.name}`,
        taskArn: t.arn,
        name: container.name,
        image: container.image,
        lastStatus: t.lastStatus === "STOPPED" ? "STOPPED" : t.lastStatus === "RUNNING" ? "RUNNING" : "PENDING",
        exitCode: t.exitCode,
        reason: t.containerReason,
        networkBindings:
          t.port === undefined ? [] : [{ bindIP: "127.0.0.1", containerPort: containerPort ?? t.port, hostPort: t.port, protocol: "tcp" }],
      },
    ],
  };
}

function at(d: Date | undefined): number | undefined {
  return d ? epochSeconds(d) : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
