// The sample world on the AWS emulator, reached through awsClientsFor as Gantry reaches AWS.
import { UpdateServiceCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsClientsFor, type AwsClients } from "../../src/aws/clients.ts";
import { REPO, TEST_CREDENTIALS } from "../support/deploy-world.ts";
import { startAwsEmulator, type AwsEmulator, type SampleBehaviour, type SampleWorld } from "../world/aws/index.ts";
import { sampleVersion, waitFor, waitSteady } from "../world/aws/test-helpers.ts";

export interface TestWorld {
  emu: AwsEmulator;
  world: SampleWorld;
  aws: AwsClients;
  close(): Promise<void>;
}

/** `healthCheckIntervalMs` is also the health check's timeout: how long a starved task may take to answer one. */
export async function startWorld({ healthCheckIntervalMs = 100 } = {}): Promise<TestWorld> {
  const emu = await startAwsEmulator({ healthCheckIntervalMs });
  const world = await emu.seedSampleWorld();
  const { region, endpoint } = emu.clientConfig();
  const aws = awsClientsFor({ region, roleArn: world.roleArn }, { repository: REPO, environment: "production" }, { endpoint, credentials: TEST_CREDENTIALS });
  await waitSteady(aws.ecs, world, world.services.blue.name);
  return { emu, world, aws, close: () => emu.close() };
}

/**
 * Runs `tag` (a sample image behaving as told) on two green tasks and waits until they are steady;
 * two, so that a health check slowed by a loaded machine cannot leave green without a target.
 */
export async function runOnGreen(t: TestWorld, tag: string, behaviour: SampleBehaviour): Promise<void> {
  const taskDefinition = await sampleVersion(t.emu, t.aws.ecs, tag, behaviour);
  await t.aws.ecs.send(new UpdateServiceCommand({ cluster: t.world.clusterArn, service: t.world.services.green.name, taskDefinition, desiredCount: 2 }));
  await waitSteady(t.aws.ecs, t.world, t.world.services.green.name);
  await waitFor("green's targets healthy", async () => {
    const { TargetHealthDescriptions: targets = [] } = await t.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: t.world.targetGroups.green }));
    return targets.length === 2 && targets.every((target) => target.TargetHealth?.State === "healthy");
  });
}

export interface RecordedCall {
  command: string;
  input: Record<string, unknown>;
}

/** Every command sent through `client` (once per send, however many retries it takes). */
export function recordCalls(client: AwsClients[keyof AwsClients]): RecordedCall[] {
  const calls: RecordedCall[] = [];
  // The four stacks differ only in their command types, which this recorder does not look at.
  (client.middlewareStack as ECSClient["middlewareStack"]).add(
    (next, context) => async (args) => {
      calls.push({ command: String(context.commandName), input: structuredClone(args.input) as Record<string, unknown> });
      return next(args);
    },
    { step: "initialize" },
  );
  return calls;
}
