// The local world with something in it: the AWS emulator's sample world (with a CodeBuild project
// for image builds), the GitHub emulator holding a repository whose `.github/gantry.yml` points at
// it, and the Slack emulator with a #deploys channel and the repository's writers. Pull requests come
// with an image in ECR and a green `gantry/test`, or are pushed with tests and a Dockerfile for Gantry
// to test and build; a person's comment or push is delivered to Gantry as a signed webhook, a click
// in Slack as a signed interactive payload. `npm run world` and `npm run demo` run it in a process of
// its own; tests may run it in theirs.
import { Octokit } from "@octokit/rest";
import { randomBytes } from "node:crypto";
import { parse, stringify } from "yaml";
import type { Weights } from "../../src/deploy/api.ts";
import { ciProjectFiles } from "../fixtures/ci-project-files.ts";
import { PROJECT, prepareBuildAccount } from "../images/build-world.ts";
import { productionWeights, sampleConfigInput, untilServing } from "../support/deploy-world.ts";
import { examplePayload } from "../support/payloads.ts";
import { TEST_INSTALLATION_ID } from "../support/probot.ts";
import { startAwsEmulator, type AwsEmulator, type SampleBehaviour, type SampleWorld } from "./aws/index.ts";
import { startGithubEmulator, type GithubEmulator } from "./github/emulator.ts";
import { pushEvent } from "./github/events.ts";
import type { Repo } from "./github/state.ts";
import { sendSignedWebhook, type WebhookDelivery } from "./github/webhook.ts";
import { sampleDockerfile } from "./sample-service/behaviour.ts";
import { startSlackEmulator, type SlackEmulator } from "./slack/emulator.ts";

export const SANDBOX_OWNER = "acme";
export const SANDBOX_NAME = "web";
export const SANDBOX_REPO = `${SANDBOX_OWNER}/${SANDBOX_NAME}`;
/** The App id the GitHub emulator issues tokens for: Gantry's APP_ID must be this for its own check runs to count. */
export const SANDBOX_APP_ID = 1;
/** Logins the sandbox grants write access to, so their commands pass the permission gate; each has a Slack user too. */
export const SANDBOX_WRITERS = ["octocat", "writer"];
/** Where the repository's config sends deployment messages. */
export const SANDBOX_SLACK_CHANNEL = "#deploys";
/** The test project's `ci` settings (a few tiny `node --test` files in two shards), in every config the sandbox commits. */
const CI_SETTINGS = (parse(ciProjectFiles()[".github/gantry.yml"]!) as { ci: unknown }).ci;
// The emulator accepts any well-formed app JWT; it does not hold the app's public key.
const ANY_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln";

export interface SandboxOptions {
  /** Port of the AWS endpoint (default: any free port). */
  awsPort?: number;
  /** The emulated load balancer's health-check interval (default 1000 ms). */
  healthCheckIntervalMs?: number;
  /** Signs every delivery; Gantry's WEBHOOK_SECRET (default: random). */
  webhookSecret?: string;
  /** Where comments and pushes are delivered, e.g. `http://localhost:3000/api/github/webhooks`; may be set later. Slack's clicks go to `/slack/actions` on the same host. */
  webhookUrl?: string;
  /** Signs Slack's interactive payloads; Gantry's SLACK_SIGNING_SECRET (default: random). */
  slackSigningSecret?: string;
}

export interface PullView {
  number: number;
  sha: string;
  comments: Array<{ id: number; user: string; bot: boolean; body: string; reactions: string[] }>;
  /** Check runs on the head commit, oldest first. */
  checks: Array<{ name: string; status: string; conclusion: string | null; title: string | null }>;
  deployments: Array<{ sha: string; environment: string; states: string[] }>;
}

/** A commit's image: its digest in ECR (tagged with the SHA), and how many CodeBuild builds were started for the commit. */
export interface ImageView {
  sha: string;
  digest: string | null;
  builds: number;
}

/** A message in the Slack workspace, with the labels of its buttons. */
export interface SlackMessageView {
  ts: string;
  channel: string;
  text: string;
  buttons: string[];
}

export interface Sandbox {
  aws: AwsEmulator;
  world: SampleWorld;
  github: GithubEmulator;
  repo: Repo;
  webhookSecret: string;
  webhookUrl: string | undefined;
  slack: SlackEmulator;
  slackSigningSecret: string;
  /** Slack user id → GitHub login, one per writer: the operator's file Gantry reads (GANTRY_SLACK_IDENTITIES_FILE). */
  slackIdentities: Record<string, string>;
  /** The operator's image builds: the CodeBuild project, and the role Gantry assumes for them (it trusts the repository). */
  imageBuilds: { project: string; roleArn: string };
  /** Commits `.github/gantry.yml` to the default branch — the sample world's production environment, with `environment`'s settings over the defaults, the test project's `ci` settings and the Slack channel. */
  commitConfig(environment?: Record<string, unknown>): void;
  /** Opens a pull request whose head has an image in ECR (tag = its SHA) behaving as told, and a green `gantry/test`. */
  openPullRequest(behaviour: SampleBehaviour, options?: { number?: number; title?: string }): Promise<{ number: number; sha: string; digest: string }>;
  /**
   * Pushes a release to the default branch: the test project and a Dockerfile whose image behaves as
   * told, over the branch's files; opens a pull request at that commit and delivers the signed `push`
   * to `webhookUrl`. No image and no test results: Gantry runs the tests and builds the image.
   */
  pushRelease(behaviour: SampleBehaviour, options?: { title?: string }): Promise<{ number: number; sha: string; delivered: number }>;
  /** A person's comment on a pull request, delivered to `webhookUrl` as a signed `issue_comment.created` webhook. */
  comment(pullRequest: number, login: string, body: string): Promise<{ commentId: number; delivery: WebhookDelivery }>;
  pull(number: number): PullView | undefined;
  image(sha: string): ImageView;
  slackMessages(): SlackMessageView[];
  /**
   * `login`'s Slack user clicks the button labelled `button` ("Approve") on the message about commit
   * `sha`: a signed interactive payload to `/slack/actions` beside `webhookUrl`. Resolves with Gantry's
   * answer to the clicker (sent to the click's response URL).
   */
  clickInSlack(sha: string, button: string, login: string): Promise<{ status: number; answer: string }>;
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
  const { roleArn: buildRoleArn } = await prepareBuildAccount(aws, github, TEST_INSTALLATION_ID, [repo.id]);
  const slack = await startSlackEmulator();
  slack.seedChannel(SANDBOX_SLACK_CHANNEL);
  const slackIdentities: Record<string, string> = {};
  for (const login of SANDBOX_WRITERS) {
    github.seedPermission(SANDBOX_REPO, login, "write");
    slackIdentities[slack.seedUser({ id: `U${login.toUpperCase()}`, name: login, email: `${login}@example.com` }).id] = login;
  }
  /** The default branch's files: a config commit or a push changes some and keeps the rest. */
  const defaultBranchFiles = (): Record<string, string> => {
    const files = repo.commits.get(repo.branches.get(repo.defaultBranch) ?? "") ?? new Map<string, Buffer>();
    return Object.fromEntries([...files].map(([path, content]) => [path, content.toString("utf8")]));
  };
  const commitConfig = (environment: Record<string, unknown> = {}) => {
    const config = { ...sampleConfigInput(aws, world, environment), ci: CI_SETTINGS, slack: { channel: SANDBOX_SLACK_CHANNEL } };
    github.seedCommit(SANDBOX_REPO, { branch: repo.defaultBranch, files: { ...defaultBranchFiles(), ".github/gantry.yml": stringify(config) } });
  };
  commitConfig();
  // Test results arrive as a CI app would post them: through the API, with an installation token.
  const token = (await new Octokit({ baseUrl: github.url, auth: ANY_JWT }).rest.apps.createInstallationAccessToken({ installation_id: TEST_INSTALLATION_ID })).data.token;
  const ci = new Octokit({ baseUrl: github.url, auth: token });
  const gantryUrl = () => {
    if (!sandbox.webhookUrl) throw new Error("no webhook URL: start Gantry and tell the world where it listens");
    return sandbox.webhookUrl;
  };
  const deliver = (event: string, payload: unknown) =>
    sendSignedWebhook({ url: gantryUrl(), secret: sandbox.webhookSecret, event, payload }).catch((error: unknown) => {
      throw new Error(`could not deliver the webhook to ${sandbox.webhookUrl}: is Gantry listening there? (${(error as Error).cause ?? (error as Error).message})`);
    });
  const buttonsOf = (blocks: unknown[]) =>
    (blocks as Array<{ type?: string; elements?: Array<{ action_id?: string; value?: string; text?: { text?: string } }> }>).filter((block) => block.type === "actions").flatMap((block) => block.elements ?? []);

  const sandbox: Sandbox = {
    aws,
    world,
    github,
    repo,
    slack,
    webhookSecret: options.webhookSecret ?? randomBytes(16).toString("hex"),
    webhookUrl: options.webhookUrl,
    slackSigningSecret: options.slackSigningSecret ?? randomBytes(16).toString("hex"),
    slackIdentities,
    imageBuilds: { project: PROJECT, roleArn: buildRoleArn },
    commitConfig,
    async openPullRequest(behaviour, { number, title } = {}) {
      const sha = randomBytes(20).toString("hex");
      const { digest } = await aws.pushSampleImage(sha, behaviour);
      const pull = github.seedPull(SANDBOX_REPO, { ...(number !== undefined ? { number } : {}), title: title ?? `Release ${behaviour.version}`, user: "octocat", head: { ref: `release-${behaviour.version}`, sha } });
      await ci.rest.checks.create({ owner: SANDBOX_OWNER, repo: SANDBOX_NAME, name: "gantry/test", head_sha: sha, status: "completed", conclusion: "success" });
      return { number: pull.number, sha, digest };
    },
    async pushRelease(behaviour, { title } = {}) {
      gantryUrl();
      const before = repo.branches.get(repo.defaultBranch);
      // A fresh SHA, as a real commit has: the same tree pushed twice is two commits.
      const sha = github.seedCommit(SANDBOX_REPO, {
        branch: repo.defaultBranch,
        sha: randomBytes(20).toString("hex"),
        files: { ...ciProjectFiles(), ...defaultBranchFiles(), Dockerfile: sampleDockerfile(behaviour) },
      });
      const pull = github.seedPull(SANDBOX_REPO, { title: title ?? `Release ${behaviour.version}`, user: "octocat", head: { ref: `release-${behaviour.version}`, sha } });
      const delivery = await deliver("push", pushEvent(github.url, repo, repo.defaultBranch, before));
      return { number: pull.number, sha, delivered: delivery.status };
    },
    async comment(pullRequest, login, body) {
      gantryUrl();
      const comment = github.seedComment(SANDBOX_REPO, pullRequest, login, body);
      const delivery = await deliver("issue_comment", commentPayload(github.url, repo, pullRequest, comment.id, comment.user, body));
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
        checks: [...repo.checkRuns.values()].filter((run) => run.headSha === pull.head.sha).map((run) => ({ name: run.name, status: run.status, conclusion: run.conclusion, title: run.output.title })),
        deployments: [...repo.deployments.values()].filter((deployment) => shas.has(deployment.sha)).map((deployment) => ({ sha: deployment.sha, environment: deployment.environment, states: deployment.statuses.map((status) => status.state) })),
      };
    },
    image(sha) {
      const image = aws.ecr.describeImages({ repositoryName: world.repositoryName }).imageDetails.find((detail) => detail.imageTags?.includes(sha));
      return { sha, digest: image?.imageDigest ?? null, builds: aws.codebuild.builds().filter((build) => build.sourceVersion === sha).length };
    },
    slackMessages() {
      return [...slack.workspace.messages.values()].map((message) => ({
        ts: message.ts,
        channel: `#${slack.workspace.channels.get(message.channel) ?? message.channel}`,
        text: message.text,
        buttons: buttonsOf(message.blocks).map((button) => button.text?.text ?? ""),
      }));
    },
    async clickInSlack(sha, button, login) {
      const userId = Object.keys(slackIdentities).find((id) => slackIdentities[id] === login);
      if (!userId) throw new Error(`${login} has no Slack user in this world; these do: ${Object.values(slackIdentities).join(", ")}`);
      const message = [...slack.workspace.messages.values()].findLast((candidate) => candidate.text.includes(sha.slice(0, 7)) && buttonsOf(candidate.blocks).some((element) => element.text?.text === button));
      const element = message && buttonsOf(message.blocks).find((candidate) => candidate.text?.text === button);
      if (!message || !element?.action_id) throw new Error(`no Slack message about ${sha.slice(0, 7)} has a button "${button}"`);
      const answered = () => slack.calls.filter((call) => call.method === "response_url");
      const before = answered().length;
      const { status } = await slack.postBlockAction(new URL("/slack/actions", gantryUrl()).href, sandbox.slackSigningSecret, {
        actionId: element.action_id,
        value: element.value ?? "",
        userId,
        channelId: message.channel,
        messageTs: message.ts,
      });
      // Gantry acknowledges at once and answers the clicker through the response URL.
      const deadline = Date.now() + 30_000;
      while (status === 200 && answered().length === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      return { status, answer: String(answered()[before]?.args.text ?? "") };
    },
    traffic: () => productionWeights(aws, world),
    async close() {
      await slack.close();
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
