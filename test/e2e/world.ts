// The whole local world for end-to-end tests: the AWS emulator's sample world, the GitHub emulator
// holding the repository, and Gantry in-process between them, talking to both over HTTP (no nock).
import { Octokit } from "@octokit/rest";
import { stringify } from "yaml";
import { expect } from "vitest";
import { TERMINAL_PHASES, type DeploymentView, type Phase, type RepoRef, type Weights } from "../../src/deploy/api.ts";
import type { Controller } from "../../src/deploy/controller.ts";
import { awsDeployTargets } from "../../src/deploy/aws-targets.ts";
import { githubWebUrl, imageBuildTargets } from "../../src/images/build-targets.ts";
import type { RunningGantry } from "../../src/gantry.ts";
import { FAST_TIMING, TEST_CREDENTIALS, productionWeights, sampleConfigInput } from "../support/deploy-world.ts";
import { startTestGantry } from "../support/gantry.ts";
import { PROJECT, prepareBuildAccount } from "../images/build-world.ts";
import { examplePayload } from "../support/payloads.ts";
import { pushEvent } from "../world/github/events.ts";
import { TEST_INSTALLATION_ID, TEST_WEBHOOK_SECRET } from "../support/probot.ts";
import { startAwsEmulator, type AwsEmulator, type SampleBehaviour, type SampleWorld } from "../world/aws/index.ts";
import { startGithubEmulator, type GithubEmulator } from "../world/github/emulator.ts";
import type { Comment, Repo } from "../world/github/state.ts";
import { sendSignedWebhook, type WebhookDelivery } from "../world/github/webhook.ts";

export const OWNER = "acme";
export const NAME = "web";
export const FULL_NAME = `${OWNER}/${NAME}`;
const WEBHOOK_PATH = "/api/github/webhooks";
// The emulator accepts any well-formed app JWT; it does not hold the app's public key.
const FAKE_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln";

/** `.github/gantry.yml` for the sample world's production environment, as a person would write it. */
export function gantryYml(aws: AwsEmulator, world: SampleWorld, environment: Record<string, unknown> = {}): string {
  return stringify(sampleConfigInput(aws, world, environment));
}

interface CommentPayload {
  action: string;
  comment: { id: number; body: string; user: { login: string; id: number; type: string }; html_url: string };
  issue: { number: number; pull_request?: object };
  repository: { id: number; name: string; full_name: string; default_branch: string; owner: { login: string; id: number } };
  sender: { login: string; id: number; type: string };
}

export interface E2eWorld {
  aws: AwsEmulator;
  world: SampleWorld;
  github: GithubEmulator;
  gantry: RunningGantry;
  /** The repository as the GitHub emulator holds it. */
  repo: Repo;
  /** Commits `.github/gantry.yml` to the default branch, where Gantry reads it at each command. */
  commitConfig(environment?: Record<string, unknown>): void;
  /** A pull request whose head has an image in ECR (tag = full SHA) and a green `gantry/test`; returns the image digest. */
  readyPullRequest(number: number, sha: string, behaviour: SampleBehaviour): Promise<string>;
  /** A pull request whose head commit holds `files` (a Dockerfile, say) and a green `gantry/test`, and no image; returns its SHA. */
  pullRequestWithoutImage(number: number, files: Record<string, string>): Promise<string>;
  /** A person's comment on a pull request, delivered as a signed `issue_comment.created` webhook. */
  comment(pullRequest: number, login: string, body: string): Promise<{ comment: Comment; payload: CommentPayload; delivery: WebhookDelivery }>;
  deliver(payload: unknown, deliveryId?: string): Promise<WebhookDelivery>;
  /** Commits `files` (the whole tree) to `branch` and delivers the signed `push` webhook; returns the commit's SHA. */
  push(branch: string, files: Record<string, string>): Promise<string>;
  /** Resolves once Gantry has processed every delivery it has received (none left pending). */
  inboxSettled(): Promise<{ pending: number; done: number; dead: number }>;
  /** Resolves once every GitHub write Gantry queued has been sent (the outbox is empty). */
  outboxSettled(): Promise<void>;
  /** Weights on the production listener, read back from the ALB. */
  liveWeights(): Promise<Weights>;
  /** Another Gantry on the same store and worlds (with `databaseUrl`, PostgreSQL shared by both); stopped by close. */
  startReplica(instanceId: string): Promise<RunningGantry>;
  close(): Promise<void>;
}

/** Polls `probe` until it returns a value other than undefined. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The deployment of `sha` once it is in one of `phases`; fails at once if it ends or pauses elsewhere. */
export async function deploymentReaching(controller: Controller, repo: RepoRef, sha: string, phases: Phase[]): Promise<DeploymentView> {
  const stops = new Set<Phase>([...phases, ...TERMINAL_PHASES, "paused"]);
  const reached = await eventually<DeploymentView>(`${sha.slice(0, 7)} to reach ${phases.join("/")}`, async () =>
    (await controller.history(repo)).find((deployment) => deployment.sha === sha && stops.has(deployment.phase)),
  );
  expect(phases, `${sha.slice(0, 7)} is ${reached.phase}: ${reached.reason}`).toContain(reached.phase);
  return reached;
}

/** Blue's tasks pass health checks a moment after seeding; tests start once the listener serves steadily. */
async function untilServing(url: string): Promise<void> {
  let consecutive = 0;
  await eventually(`${url} to serve the sample app`, async () => {
    const ok = await fetch(url).then((response) => response.status === 200, () => false);
    consecutive = ok ? consecutive + 1 : 0;
    return consecutive >= 10 ? true : undefined;
  }, 20_000);
}

/**
 * `driftCheckMs`: how often Gantry's drift watcher looks at the listener (its default is a minute).
 * `databaseUrl`: PostgreSQL instead of SQLite, so replicas can share it.
 */
export async function startE2eWorld(
  options: { driftCheckMs?: number; /** How often test shards are looked at. */ ciWatchMs?: number; databaseUrl?: string; imageBuilds?: boolean; /** More server variables, given the GitHub emulator (its URL). */ env?: (github: GithubEmulator) => Record<string, string> } = {},
): Promise<E2eWorld> {
  // The default deregistration delay (5 s, left as soon as a target is idle): a shorter one cuts
  // requests still in flight to a colour being scaled down on a busy machine, which clients see as 502s.
  const aws = await startAwsEmulator({ healthCheckIntervalMs: 100 });
  const world = await aws.seedSampleWorld();
  await untilServing(world.listeners.production.url);

  const github = await startGithubEmulator();
  const repo = github.seedRepo({ owner: OWNER, name: NAME, installationId: TEST_INSTALLATION_ID });
  // The sample role's trust policy names the repository by GitHub's id for it.
  aws.sts.trust(world.roleArn, String(repo.id));
  const commitConfig = (environment: Record<string, unknown> = {}) => {
    github.seedCommit(FULL_NAME, { branch: repo.defaultBranch, files: { ".github/gantry.yml": gantryYml(aws, world, environment) } });
  };
  commitConfig();

  const { databaseUrl, imageBuilds, env, ...gantryOptions } = options;
  // The operator's image builds: a CodeBuild project with GitHub source credentials, and a build role.
  const builds = imageBuilds ? await imageBuildSettings(aws, github, repo.id) : undefined;
  const startOne = (instanceId: string) =>
    startTestGantry(
      undefined,
      { GITHUB_API_URL: github.url, WEBHOOK_PATH, GANTRY_INSTANCE_ID: instanceId, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...builds?.env, ...env?.(github) },
      {
        deployTargets: awsDeployTargets({ endpoint: aws.endpoint, credentials: TEST_CREDENTIALS }),
        timing: FAST_TIMING,
        ...(builds ? { imageBuildTargets: builds.targets } : {}),
        ...gantryOptions,
      },
    );
  const gantry = await startOne("replica-a");
  const replicas: RunningGantry[] = [];
  // Gantry's URL is known only once it listens, and a redelivery must reuse a delivery id: so the
  // emulator's own signed-delivery function is called with both rather than fixed at its start.
  const send = (event: string, payload: unknown, deliveryId?: string) =>
    sendSignedWebhook({ url: `${gantry.url}${WEBHOOK_PATH}`, secret: TEST_WEBHOOK_SECRET, event, payload, ...(deliveryId ? { deliveryId } : {}) });
  const deliver = (payload: unknown, deliveryId?: string) => send("issue_comment", payload, deliveryId);

  // Test results arrive as another app would post them: through the API, with an installation token.
  const token = (await new Octokit({ baseUrl: github.url, auth: FAKE_JWT }).rest.apps.createInstallationAccessToken({ installation_id: TEST_INSTALLATION_ID })).data.token;
  const ci = new Octokit({ baseUrl: github.url, auth: token });

  return {
    aws,
    world,
    github,
    gantry,
    repo,
    commitConfig,
    async readyPullRequest(number, sha, behaviour) {
      const { digest } = await aws.pushSampleImage(sha, behaviour);
      github.seedPull(FULL_NAME, { number, user: "author", head: { ref: `feature-${number}`, sha } });
      await ci.rest.checks.create({ owner: OWNER, repo: NAME, name: "gantry/test", head_sha: sha, status: "completed", conclusion: "success" });
      return digest;
    },
    async pullRequestWithoutImage(number, files) {
      const sha = github.seedCommit(FULL_NAME, { branch: `feature-${number}`, files });
      github.seedPull(FULL_NAME, { number, user: "author", head: { ref: `feature-${number}`, sha } });
      await ci.rest.checks.create({ owner: OWNER, repo: NAME, name: "gantry/test", head_sha: sha, status: "completed", conclusion: "success" });
      return sha;
    },
    async comment(pullRequest, login, body) {
      const comment = github.seedComment(FULL_NAME, pullRequest, login, body);
      const payload = examplePayload<CommentPayload>("issue_comment", (candidate) => candidate.action === "created");
      payload.comment.id = comment.id;
      payload.comment.body = body;
      payload.comment.html_url = `${github.url}/${FULL_NAME}/pull/${pullRequest}#issuecomment-${comment.id}`;
      payload.comment.user = { ...payload.comment.user, login, id: comment.user.id, type: "User" };
      payload.sender = { ...payload.sender, login, id: comment.user.id, type: "User" };
      payload.issue.number = pullRequest;
      payload.issue.pull_request = { url: `${github.url}/repos/${FULL_NAME}/pulls/${pullRequest}`, merged_at: null };
      payload.repository = {
        ...payload.repository,
        id: repo.id,
        name: NAME,
        full_name: FULL_NAME,
        default_branch: repo.defaultBranch,
        owner: { ...payload.repository.owner, login: OWNER, id: repo.owner.id },
      };
      return { comment, payload, delivery: await deliver(payload) };
    },
    deliver,
    async push(branch, files) {
      const before = repo.branches.get(branch);
      const sha = github.seedCommit(FULL_NAME, { branch, files });
      const delivery = await send("push", pushEvent(github.url, repo, branch, before));
      if (delivery.status !== 202) throw new Error(`push refused: ${delivery.status} ${delivery.body}`);
      return sha;
    },
    async inboxSettled() {
      return eventually("the webhook inbox to settle", async () => {
        const health = (await (await fetch(`${gantry.url}/healthz`)).json()) as { inbox: { pending: number; done: number; dead: number } };
        return health.inbox.pending === 0 ? health.inbox : undefined;
      });
    },
    async outboxSettled() {
      await eventually("the GitHub outbox to empty", async () => {
        const health = (await (await fetch(`${gantry.url}/healthz`)).json()) as { outbox: { pending: number } };
        return health.outbox.pending === 0 ? true : undefined;
      });
    },
    liveWeights: () => productionWeights(aws, world),
    async startReplica(instanceId) {
      const replica = await startOne(instanceId);
      replicas.push(replica);
      return replica;
    },
    async close() {
      for (const replica of replicas) await replica.stop();
      await gantry.stop();
      await github.close();
      await aws.close();
    },
  };
}

/** Server variables and AWS side of image builds on the emulator (GANTRY_IMAGE_BUILDER=codebuild). */
async function imageBuildSettings(aws: AwsEmulator, github: GithubEmulator, repositoryId: number) {
  const { roleArn } = await prepareBuildAccount(aws, github, TEST_INSTALLATION_ID, [repositoryId]);
  const env = {
    GANTRY_IMAGE_BUILDER: "codebuild",
    GANTRY_CODEBUILD_PROJECT: PROJECT,
    GANTRY_IMAGE_BUILD_REGION: aws.region,
    GANTRY_IMAGE_BUILD_ROLE_ARN: roleArn,
    GANTRY_IMAGE_BUILD_POLL_MS: "100",
  };
  const targets = imageBuildTargets({ builder: "codebuild", region: aws.region, project: PROJECT, roleArn, endpoint: aws.endpoint, credentials: TEST_CREDENTIALS, githubWebUrl: githubWebUrl(github.url) });
  return { env, targets };
}
