import { describe, expect, it } from "vitest";
import { repoConfigSchema } from "../../src/config/repo-config.ts";
import { initialState, type Deployment } from "../../src/deploy/deployment-state.ts";
import { rollbackTarget } from "../../src/deploy/rollback-target.ts";
import { REPO } from "../support/deploy-world.ts";

const elb = "arn:aws:elasticloadbalancing:us-east-1:123456789012";
const environment = repoConfigSchema.parse({
  environments: {
    production: {
      aws: { region: "us-east-1" },
      ecs: { cluster: "web", services: { blue: "web-blue", green: "web-green" } },
      targetGroups: { blue: `${elb}:targetgroup/blue/1`, green: `${elb}:targetgroup/green/2` },
      listeners: { production: `${elb}:listener/app/web/3/4` },
    },
  },
}).environments.production!;

/** A successful deployment `id` of commit `sha`; `rollbackOf` marks a rollback redeploy. */
function succeeded(id: string, sha: string, rollbackOf?: string): Deployment {
  const image = { digest: `sha256:${sha}`, imageUri: `web@sha256:${sha}` };
  return {
    id,
    repo: REPO,
    environment: "production",
    sha,
    phase: "succeeded",
    requestedBy: "octocat",
    pullRequest: null,
    state: initialState({ environment, buildRepository: "web", fastPath: rollbackOf !== undefined, image, now: 0, ...(rollbackOf ? { rollbackOf } : {}) }),
    pendingAction: null,
    nextTickAt: 0,
    fence: 0,
    createdAt: 0,
    updatedAt: 0,
  };
}

describe("what /rollback redeploys once the old colour is gone", () => {
  it.each([
    ["the deployment before the live one", [succeeded("b", "B"), succeeded("a", "A")], "a"],
    ["nothing when there is no earlier one", [succeeded("a", "A")], undefined],
    ["nothing when there are no deployments", [], undefined],
    ["past redeploys of the live commit", [succeeded("a2", "A"), succeeded("a1", "A"), succeeded("z", "Z")], "z"],
    ["further back on a second /rollback, not the commit the first one left", [succeeded("r1", "A", "b"), succeeded("b", "B"), succeeded("a", "A"), succeeded("z", "Z")], "z"],
    ["nothing when the only other commit was rolled away from", [succeeded("r1", "A", "b"), succeeded("b", "B"), succeeded("a", "A")], undefined],
  ])("picks %s", (_case, newestFirst, expected) => {
    expect(rollbackTarget(newestFirst)?.target.id).toBe(expected);
  });
});
