import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REPO, sampleConfig, startDeployWorld, type DeployWorld } from "../support/deploy-world.ts";

/** A deployment's reason is shown on GitHub (status comment, Deployment status, check run) and in Slack. */
describe("a deployment stopped by an AWS error", () => {
  let env: DeployWorld;
  beforeEach(async () => {
    env = await startDeployWorld();
  });
  afterEach(async () => {
    await env.close();
  });

  it("gives the error's name and a short message as its reason, without ARNs or account ids", async () => {
    const sha = await env.pushImage({ version: "v2" });
    const missing = env.world.targetGroups.green.replace(/\/[^/]+\/[^/]+$/u, "/gone/0123456789abcdef");
    const config = sampleConfig(env.aws, env.world, { targetGroups: { blue: env.world.targetGroups.blue, green: missing } });
    const started = await env.controller.start({ repo: REPO, config, environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });
    if (started.outcome === "refused") throw new Error(started.reason);

    const done = await env.until(started.deployment.id, ["failed", "rolled-back"], 60_000);
    const accountId = /:(\d{12}):/u.exec(missing)![1]!;
    const reasons = [done.reason, ...env.observer.changes.filter((change) => change.id === done.id).map((change) => change.reason)].filter((reason) => reason !== null);
    expect(done.reason).toBe("stopped: warming failed 5 time(s): TargetGroupNotFoundException: Target groups '(ARN)' not found");
    for (const reason of reasons) {
      expect(reason).not.toContain("arn:aws");
      expect(reason).not.toContain(accountId);
    }
  }, 90_000);
});
