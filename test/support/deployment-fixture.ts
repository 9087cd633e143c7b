import { repoConfigSchema } from "../../src/config/repo-config.ts";
import type { DeploymentView, Phase } from "../../src/deploy/api.ts";
import { initialState, type Deployment, type DeploymentState } from "../../src/deploy/deployment-state.ts";
import { REPO } from "./deploy-world.ts";
import { TEST_INSTALLATION_ID } from "./probot.ts";

const elb = "arn:aws:elasticloadbalancing:us-east-1:123456789012";

/** An environment for tests of the controller's decisions that never reach AWS. */
export const OFFLINE_ENVIRONMENT = repoConfigSchema.parse({
  environments: {
    production: {
      aws: { region: "us-east-1", roleArn: "arn:aws:iam::123456789012:role/gantry-web" },
      ecs: { cluster: "web", services: { blue: "web-blue", green: "web-green" } },
      targetGroups: { blue: `${elb}:targetgroup/blue/1`, green: `${elb}:targetgroup/green/2` },
      listeners: { production: `${elb}:listener/app/web/3/4` },
      strategy: { type: "canary", steps: [{ weight: 5, bake: "5m" }, { weight: 100, bake: "5m" }] },
    },
  },
}).environments.production!;

/** A deployment row as the store would hand it to a tick, of commit `sha` in `phase`. */
export function deploymentFixture(options: { id: string; sha: string; phase: Phase; rollbackOf?: string; state?: Partial<DeploymentState> } & Partial<Pick<Deployment, "pendingAction" | "nextTickAt">>): Deployment {
  const image = { digest: `sha256:${options.sha}`, imageUri: `web@sha256:${options.sha}` };
  const rollback = options.rollbackOf ? { fastPath: true, rollbackOf: options.rollbackOf } : { fastPath: false };
  return {
    id: options.id,
    repo: REPO,
    environment: "production",
    sha: options.sha,
    phase: options.phase,
    requestedBy: "octocat",
    pullRequest: null,
    state: { ...initialState({ repositoryId: REPO.id, environment: OFFLINE_ENVIRONMENT, buildRepository: "web", image, now: 0, ...rollback }), ...options.state },
    pendingAction: options.pendingAction ?? null,
    approvals: [],
    nextTickAt: options.nextTickAt ?? 0,
    fence: 1,
    createdAt: 0,
    updatedAt: 0,
  };
}

/** A deployment as GitHub and Slack are told of it: d-1 of acme/web, commit a…a, all blue; `extra` changes any field. */
export function deploymentViewFixture(phase: Phase, updatedAt: number, extra: Partial<DeploymentView> = {}): DeploymentView {
  return {
    id: "d-1",
    repo: { owner: "acme", repo: "web", id: 1, installationId: TEST_INSTALLATION_ID },
    environment: "production",
    sha: "a".repeat(40),
    imageDigest: `sha256:${"d".repeat(64)}`,
    phase,
    step: 0,
    liveColour: "blue",
    weights: { blue: 100, green: 0 },
    verdicts: [],
    requestedBy: "octocat",
    pullRequest: 7,
    reason: null,
    timeToRestoreMs: null,
    warmUntil: null,
    createdAt: 1_000,
    updatedAt,
    ...extra,
  };
}
