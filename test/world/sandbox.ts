// The local world with something in it: the AWS emulator's sample world, and the GitHub emulator
// holding a repository whose `.github/gantry.yml` points at it. Pull requests come with an image in
// ECR and a green `gantry/test`; a person's comment is delivered to Gantry as a signed webhook.
// `npm run world` and `npm run demo` run it in a process of its own; tests may run it in theirs.
import { Octokit } from "@octokit/rest";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import type { Weights } from "../../src/deploy/api.ts";
import { productionWeights, sampleConfigInput, untilServing } from "../support/deploy-world.ts";
import { examplePayload } from "../support/payloads.ts";
import { TEST_INSTALLATION_ID } from "../support/probot.ts";
import { startAwsEmulator, type AwsEmulator, type SampleBehaviour, type SampleWorld } from "./aws/index.ts";
import { startGithubEmulator, type GithubEmulator } from "./github/emulator.ts";
import type { Repo } from "./github/state.ts";
import { sendSignedWebhook, type WebhookDelivery } from "./github/webhook.ts";

export const SANDBOX_OWNER = "acme";
export const SANDBOX_NAME = "web";
export const SANDBOX_REPO = `${SANDBOX_OWNER}/${SANDBOX_NAME}`;
/** The App id the GitHub emulator issues tokens for: Gantry's APP_ID must be this for its own check runs to count. */
export const SANDBOX_APP_ID = 1;
/** Logins the sandbox grants write access to, so their commands pass the permission gate. */
export const SANDBOX_WRITERS = ["octocat", "writer"];
// The emulator accepts any well-formed app JWT; it does not hold the app's public key.
const ANY_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln";

export interface SandboxOptions {
  /** Port of the AWS endpoint (default: any free port). */
  awsPort?: number;
  /** The emulated load balancer's health-check interval (default 1000 ms). */
  healthCheckIntervalMs?: number;
  /** Signs every delivery; Gantry's WEBHOOK_SECRET (default: random). */
  webhookSecret?: string;
  /** Where comments are delivered, e.g. `http://localhost:3000/api/github/webhooks`; may be set later. */
  webhookUrl?: string;
}

export interface PullView {
  number: number;
  sha: string;
  comments: Array<{ id: number; user: string; bot: boolean; body: string; reactions: string[] }>;
  deployments: Array<{ sha: string; environment: string; states: string[] }>;
}

export interface Sandbox {
  aws: AwsEmulator;
  world: SampleWorld;
  github: GithubEmulator;
  repo: Repo;
  webhookSecret: string;
  webhookUrl: string | undefined;
  /** Commits `.github/gantry.yml` for the sample world's production environment, with `environment`'s settings over the defaults. */
  commitConfig(environment?: Record<string, unknown>): void;
  /** Opens a pull request whose head has an image in ECR (tag = its SHA) behaving as told, and a green `gantry/test`. */
  openPullRequest(behaviour: SampleBehaviour, options?: { number?: number; title?: string }): Promise<{ number: number; sha: string; digest: string }>;
  /** A person's comment on a pull request, delivered to `webhookUrl` as a signed `issue_comment.created` webhook. */
  comment(pullRequest: number, login: string, body: string): Promise<{ commentId: number; delivery: WebhookDelivery }>;
  pull(number: number): PullView | undefined;
  /** The production listener's weights, read back from the load balancer. */
  traffic(): Promise<Weights>;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const aws = await startAwsEmulator({ ...(options.awsPort !== undefined ? { port: options.awsPort } : {}), healthCheckIntervalMs: options.healthCheckIntervalMs ?? 1000 });
  const world = await aws.seedSampleWorld();
  await untilServing(world.listeners.production.url);
  const github = await startGithubEmulator({ appId: SANDBOX_APP_ID });
  const repo = github.seedRepo({ owner: SANDBOX_OWNER, name: SANDBOX_NAME, installationId: TEST_INSTALLATION_ID });
  // The sample role's trust policy names the repository by GitHub's id for it.
  aws.sts.trust(world.roleArn, String(repo.id));
  for (const login of SANDBOX_WRITERS) github.seedPermission(SANDBOX_REPO, login, "write");
  const commitConfig = (environment: Record<string, unknown> = {}) => {
    github.seedCommit(SANDBOX_REPO, { branch: repo.defaultBranch, files: { ".github/gantry.yml": stringify(sampleConfigInput(aws, world, environment)) } });
  };
  commitConfig();
  // Test results arrive as a CI app would post them: through the API, with an installation token.
  const token = (await new Octokit({ baseUrl: github.url, auth: ANY_JWT }).rest.apps.createInstallationAccessToken({ installation_id: TEST_INSTALLATION_ID })).data.token;
  const ci = new Octokit({ baseUrl: github.url, auth: token });

  const sandbox: Sandbox = {
    aws,
    world,
    github,
    repo,
    webhookSecret: options.webhookSecret ?? randomBytes(16).toString("hex"),
    webhookUrl: options.webhookUrl,
    commitConfig,
    async openPullRequest(behaviour, { number, title } = {}) {
      const sha = randomBytes(20).toString("hex");
      const { digest } = await aws.pushSampleImage(sha, behaviour);
      const pull = github.seedPull(SANDBOX_REPO, { ...(number !== undefined ? { number } : {}), title: title ?? `Release ${behaviour.version}`, user: "octocat", head: { ref: `release-${behaviour.version}`, sha } });
      await ci.rest.checks.create({ owner: SANDBOX_OWNER, repo: SANDBOX_NAME, name: "gantry/test", head_sha: sha, status: "completed", conclusion: "success" });
      return { number: pull.number, sha, digest };
    },
    async comment(pullRequest, login, body) {
      if (!sandbox.webhookUrl) throw new Error("no webhook URL: start Gantry and tell the world where it listens");
      const comment = github.seedComment(SANDBOX_REPO, pullRequest, login, body);
      const payload = commentPayload(github.url, repo, pullRequest, comment.id, comment.user, body);
      const delivery = await sendSignedWebhook({ url: sandbox.webhookUrl, secret: sandbox.webhookSecret, event: "issue_comment", payload }).catch((error: unknown) => {
        throw new Error(`could not deliver the webhook to ${sandbox.webhookUrl}: is Gantry listening there? (${(error as Error).cause ?? (error as Error).message})`);
      });
      return { commentId: comment.id, delivery };
    },
    pull(number) {
      const pull = repo.pulls.get(number);
      if (!pull) return undefined;
      const comments = [...repo.comments.values()].filter((comment) => comment.issueNumber === number);
      const shas = new Set([pull.head.sha]);
      return {
        number,
        sha: pull.head.sha,
        comments: comments.map((comment) => ({ id: comment.id, user: comment.user.login, bot: comment.user.type === "Bot", body: comment.body, reactions: comment.reactions.map((reaction) => reaction.content) })),
        deployments: [...repo.deployments.values()].filter((deployment) => shas.has(deployment.sha)).map((deployment) => ({ sha: deployment.sha, environment: deployment.environment, states: deployment.statuses.map((status) => status.state) })),
      };
    },
    traffic: () => productionWeights(aws, world),
    async close() {
      await github.close();
      await aws.close();
    },
  };
  return sandbox;
}

/** The real `issue_comment.created` example, made into `user`'s comment on the sandbox repository's pull request. */
function commentPayload(githubUrl: string, repo: Repo, pullRequest: number, commentId: number, user: { login: string; id: number }, body: string) {
  const payload = examplePayload<{
    comment: { id: number; body: string; user: { login: string; id: number; type: string }; html_url: string };
    issue: { number: number; pull_request?: object };
    repository: { id: number; name: string; full_name: string; default_branch: string; owner: { login: string; id: number } };
    sender: { login: string; id: number; type: string };
  }>("issue_comment", (candidate) => candidate.action === "created");
  payload.comment.id = commentId;
  payload.comment.body = body;
  payload.comment.html_url = `${githubUrl}/${repo.fullName}/pull/${pullRequest}#issuecomment-${commentId}`;
  payload.comment.user = { ...payload.comment.user, login: user.login, id: user.id, type: "User" };
  payload.sender = { ...payload.sender, login: user.login, id: user.id, type: "User" };
  payload.issue.number = pullRequest;
  payload.issue.pull_request = { url: `${githubUrl}/repos/${repo.fullName}/pulls/${pullRequest}`, merged_at: null };
  payload.repository = {
    ...payload.repository,
    id: repo.id,
    name: repo.name,
    full_name: repo.fullName,
    default_branch: repo.defaultBranch,
    owner: { ...payload.repository.owner, login: repo.owner.login, id: repo.owner.id },
  };
  return payload;
}
