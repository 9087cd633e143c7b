// `npm run world`: the local world on loopback — the AWS emulator's sample world, the GitHub
// emulator holding a repository configured for it, and the Slack emulator — until Ctrl-C.
// `npm run world -- <command>` talks to a running one (see cli.ts).
// WORLD_AWS_PORT picks the AWS endpoint's port (default 4566; 0 = any free port), WORLD_HEALTH_CHECK_MS
// the load balancer's health-check interval (default 1000), WORLD_WEBHOOK_URL where comments are
// delivered (default http://localhost:3000/api/github/webhooks), WORLD_WEBHOOK_SECRET their secret,
// WORLD_STATE_FILE where the world says how to reach it (default data/world/world.json),
// WORLD_EXIT_WITH_STDIN=1 stops it when its stdin closes (its parent is gone), and WORLD_REPOSITORY_IDS (comma-separated GitHub repository ids) are trusted by the sample role too.
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { stringify } from "yaml";
import { runWorldCommand } from "./cli.ts";
import { startControlServer } from "./control.ts";
import { SANDBOX_APP_ID, SANDBOX_REPO, SANDBOX_SLACK_CHANNEL, startSandbox } from "./sandbox.ts";
import { gantryEnvFor, worldStateFile, type WorldState } from "./world-state.ts";

const [command, ...args] = process.argv.slice(2);
if (command !== undefined) process.exit(await runWorldCommand(command, args));

const sandbox = await startSandbox({
  awsPort: Number(process.env.WORLD_AWS_PORT ?? 4566),
  healthCheckIntervalMs: Number(process.env.WORLD_HEALTH_CHECK_MS ?? 1000),
  webhookUrl: process.env.WORLD_WEBHOOK_URL ?? "http://localhost:3000/api/github/webhooks",
  ...(process.env.WORLD_WEBHOOK_SECRET ? { webhookSecret: process.env.WORLD_WEBHOOK_SECRET } : {}),
});
const { aws, world } = sandbox;
for (const id of (process.env.WORLD_REPOSITORY_IDS ?? "").split(",").filter(Boolean)) aws.sts.trust(world.roleArn, id.trim());
const { slack } = sandbox;

// The GitHub emulator takes any app JWT, so any key will do; Gantry needs one to start.
const stateFile = resolve(worldStateFile());
mkdirSync(dirname(stateFile), { recursive: true });
const privateKeyPath = join(dirname(stateFile), "app-private-key.pem");
writeFileSync(privateKeyPath, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
// The operator's file of who is who: each writer's Slack user acts as their GitHub login.
const identitiesFile = join(dirname(stateFile), "slack-identities.yml");
writeFileSync(identitiesFile, stringify(sandbox.slackIdentities));
const stateNow = (): WorldState => ({
  pid: process.pid,
  control: control.url,
  github: sandbox.github.url,
  aws: { endpoint: aws.endpoint, region: aws.region },
  listeners: { production: world.listeners.production.url, test: world.listeners.test.url },
  appId: SANDBOX_APP_ID,
  webhookSecret: sandbox.webhookSecret,
  privateKeyPath,
  webhookUrl: sandbox.webhookUrl ?? null,
  slack: { api: `${slack.url}/api/`, botToken: slack.token, signingSecret: sandbox.slackSigningSecret, identitiesFile },
  imageBuilds: sandbox.imageBuilds,
});
const writeState = () => writeFileSync(stateFile, JSON.stringify(stateNow(), null, 2));
const control = await startControlServer(sandbox, writeState);
writeState();

const shutdown = async () => {
  rmSync(stateFile, { force: true });
  await Promise.all([control.close(), sandbox.close()]);
  process.exit(0);
};
process.once("SIGINT", () => void shutdown());
process.once("SIGTERM", () => void shutdown());
// Started by the demo: stop with it, even when it is killed.
if (process.env.WORLD_EXIT_WITH_STDIN) process.stdin.once("end", () => void shutdown()).resume();

console.log(`# Local world is up. Ctrl-C stops it and every task process.
#   AWS endpoint (ECS, ELBv2, CloudWatch, ECR, CodeBuild, STS): ${aws.endpoint}   faults: ${aws.endpoint}/__emulator/faults
#   production listener: ${world.listeners.production.url}   test listener: ${world.listeners.test.url}
#   ECR: ${aws.accountId}.dkr.ecr.${aws.region}.amazonaws.com/${world.repositoryName}
#   GitHub API: ${sandbox.github.url} (repository ${SANDBOX_REPO}, its .github/gantry.yml set for this world)
#   Slack Web API: ${slack.url}/api/ (bot token ${slack.token}; channel ${SANDBOX_SLACK_CHANNEL}; users ${Object.values(sandbox.slackIdentities).join(", ")})
#   CodeBuild project ${sandbox.imageBuilds.project}: builds a commit's Dockerfile into ECR
#
# Start Gantry against it, in another terminal:
#   ${Object.entries(gantryEnvFor(stateNow())).map(([name, value]) => `${name}=${value}`).join(" \\\n#   ")} \\
#   npm start
# Then open (or push, with tests and a Dockerfile) a pull request and comment on it (delivered to ${sandbox.webhookUrl}):
#   npm run world -- pull --version v2           (or: push --version v2)
#   npm run world -- comment 1 "/deploy production"
#   npm run world -- show 1
#
# Gantry's own AWS keys may only assume the role below, which trusts ExternalId ${sandbox.repo.id} (${SANDBOX_REPO}'s
# GitHub id); add a repository of yours with WORLD_REPOSITORY_IDS. Its production environment:
environments:
  production:
    aws: { region: ${aws.region}, roleArn: ${world.roleArn} }
    ecs: { cluster: ${world.clusterArn}, services: { blue: ${world.services.blue.name}, green: ${world.services.green.name} } }
    targetGroups: { blue: ${world.targetGroups.blue}, green: ${world.targetGroups.green} }
    listeners: { production: ${world.listeners.production.arn}, test: ${world.listeners.test.arn} }`);
