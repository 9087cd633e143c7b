// Shared by the contract tests: clients on the emulator, polling, and HTTP load through a listener.
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ECRClient } from "@aws-sdk/client-ecr";
import { DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { sampleTaskDefinition, type AwsEmulator, type SampleBehaviour, type SampleWorld } from "./index.ts";

export function clients(emu: AwsEmulator, extra: { maxAttempts?: number } = {}) {
  const cfg = { ...emu.clientConfig(), ...extra };
  return {
    ecs: new ECSClient(cfg),
    elb: new ElasticLoadBalancingV2Client(cfg),
    cw: new CloudWatchClient(cfg),
    ecr: new ECRClient(cfg),
  };
}

/** Polls until `check` returns a value other than undefined/false. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function describeService(ecs: ECSClient, world: SampleWorld, name: string) {
  const out = await ecs.send(new DescribeServicesCommand({ cluster: world.clusterArn, services: [name] }));
  const service = out.services?.[0];
  if (!service) throw new Error(`service ${name} missing`);
  return service;
}

/** Waits until the service has one COMPLETED deployment with all desired tasks running. */
export function waitSteady(ecs: ECSClient, world: SampleWorld, name: string) {
  return waitFor(`${name} steady`, async () => {
    const s = await describeService(ecs, world, name);
    const [d, ...rest] = s.deployments ?? [];
    return rest.length === 0 && d?.rolloutState === "COMPLETED" && s.runningCount === s.desiredCount && s;
  });
}

/** Pushes a sample image and registers a task definition for it; returns the task definition ARN. */
export async function sampleVersion(emu: AwsEmulator, ecs: ECSClient, tag: string, behaviour: SampleBehaviour): Promise<string> {
  const { imageUri } = await emu.pushSampleImage(tag, behaviour);
  const out = await ecs.send(new RegisterTaskDefinitionCommand(sampleTaskDefinition(imageUri) as never));
  return out.taskDefinition?.taskDefinitionArn ?? "";
}

export function setWeights(elb: ElasticLoadBalancingV2Client, listenerArn: string, weights: [string, number][]) {
  return elb.send(
    new ModifyListenerCommand({
      ListenerArn: listenerArn,
      DefaultActions: [{ Type: "forward", ForwardConfig: { TargetGroups: weights.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })) } }],
    }),
  );
}

export interface LoadResult {
  status: number;
  version?: string;
  body: string;
}

const agent = new Agent({ keepAlive: true });

export function get(url: string, headers: Record<string, string> = {}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    request(url, { agent, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, version: res.headers["x-sample-version"] as string | undefined, body }));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

/** Sends `total` GETs with `concurrency` in flight; a transport failure counts as status 0. */
export async function load(url: string, total: number, concurrency = 8): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      results.push(await get(url).catch((err: Error) => ({ status: 0, body: err.message })));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

export function countBy<T>(items: T[], key: (t: T) => string | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = key(item) ?? "none";
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}
