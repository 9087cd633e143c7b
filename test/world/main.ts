// `npm run world`: the local world on loopback — the AWS emulator with the sample setup (and
// the GitHub and Slack emulators) — printed as a ready `.github/gantry.yml` environment block.
// WORLD_AWS_PORT picks the AWS endpoint's port (default 4566; 0 = any free port); WORLD_REPOSITORY_IDS
// (comma-separated GitHub repository ids) are trusted by the sample role besides the sample repository's.
import { DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import { setTimeout as sleep } from "node:timers/promises";
import { SAMPLE_REPOSITORY_ID, startAwsEmulator } from "./aws/index.ts";
import { startGithubEmulator } from "./github/emulator.ts";
import { startSlackEmulator } from "./slack/emulator.ts";

const aws = await startAwsEmulator({ port: Number(process.env.WORLD_AWS_PORT ?? 4566), healthCheckIntervalMs: 1000 });
const world = await aws.seedSampleWorld();
const trusted = [String(SAMPLE_REPOSITORY_ID), ...(process.env.WORLD_REPOSITORY_IDS ?? "").split(",").filter(Boolean)];
for (const id of trusted.slice(1)) aws.sts.trust(world.roleArn, id.trim());
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
#   AWS endpoint (ECS, ELBv2, CloudWatch, ECR, STS): ${aws.endpoint}   faults: ${aws.endpoint}/__emulator/faults
#   Gantry's environment: AWS_ENDPOINT_URL=${aws.endpoint}
#   production listener: ${world.listeners.production.url}   test listener: ${world.listeners.test.url}
#   ECR: ${aws.accountId}.dkr.ecr.${aws.region}.amazonaws.com/${world.repositoryName}
#   GitHub API: ${github.url}   Slack Web API: ${slack.url}/api/ (bot token ${slack.token})
#   credentials: any static keys, e.g. AWS_ACCESS_KEY_ID=AKIDGANTRY AWS_SECRET_ACCESS_KEY=any: they may only assume the role below,
#   which trusts ExternalId ${trusted.join(", ")} (a repository's GitHub id; add yours with WORLD_REPOSITORY_IDS)
environments:
  production:
    aws: { region: ${aws.region}, roleArn: ${world.roleArn} }
    ecs: { cluster: ${world.clusterArn}, services: { blue: ${world.services.blue.name}, green: ${world.services.green.name} } }
    targetGroups: { blue: ${world.targetGroups.blue}, green: ${world.targetGroups.green} }
    listeners: { production: ${world.listeners.production.arn}, test: ${world.listeners.test.arn} }`);
