// `npm run world`: the local world on loopback — the AWS emulator with the sample setup (and
// the GitHub and Slack emulators) — printed as a ready `.github/gantry.yml` environment block.
// WORLD_AWS_PORT picks the AWS endpoint's port (default 4566; 0 = any free port).
import { DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import { setTimeout as sleep } from "node:timers/promises";
import { startAwsEmulator } from "./aws/index.ts";
import { startGithubEmulator } from "./github/emulator.ts";
import { startSlackEmulator } from "./slack/emulator.ts";

const aws = await startAwsEmulator({ port: Number(process.env.WORLD_AWS_PORT ?? 4566), healthCheckIntervalMs: 1000 });
const world = await aws.seedSampleWorld();
const github = await startGithubEmulator();
const slack = await startSlackEmulator();

const shutdown = async () => {
  await Promise.all([aws.close(), github.close(), slack.close()]);
  process.exit(0);
};
process.once("SIGINT", () => void shutdown());
process.once("SIGTERM", () => void shutdown());

// Print once blue serves traffic, so the block is usable the moment it appears.
const ecs = new ECSClient(aws.clientConfig());
for (;;) {
  const out = await ecs.send(new DescribeServicesCommand({ cluster: world.clusterArn, services: [world.services.blue.name] }));
  if (out.services?.[0]?.deployments?.[0]?.rolloutState === "COMPLETED") break;
  await sleep(200);
}

console.log(`# Local world is up. Ctrl-C stops it and every task process.
#   AWS endpoint (ECS, ELBv2, CloudWatch, ECR): ${aws.endpoint}   faults: ${aws.endpoint}/__emulator/faults
#   production listener: ${world.listeners.production.url}   test listener: ${world.listeners.test.url}
#   ECR: ${aws.accountId}.dkr.ecr.${aws.region}.amazonaws.com/${world.repositoryName}
#   GitHub API: ${github.url}   Slack Web API: ${slack.url}/api/ (bot token ${slack.token})
#   credentials: any static keys, e.g. AWS_ACCESS_KEY_ID=${aws.clientConfig().credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${aws.clientConfig().credentials.secretAccessKey}
environments:
  production:
    aws: { region: ${aws.region}, endpoint: ${aws.endpoint} }
    ecs: { cluster: ${world.clusterArn}, services: { blue: ${world.services.blue.name}, green: ${world.services.green.name} } }
    targetGroups: { blue: ${world.targetGroups.blue}, green: ${world.targetGroups.green} }
    listeners: { production: ${world.listeners.production.arn}, test: ${world.listeners.test.arn} }`);
