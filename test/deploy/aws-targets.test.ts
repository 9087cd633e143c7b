// The deploy engine's AWS identity: each deployment reaches AWS only through its environment's role,
// assumed for the repository's id, which is persisted with the deployment for every later tick; a
// role outside the server's allowed accounts is refused before any AWS call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoConfigSchema, type RepoConfig } from "../../src/config/repo-config.ts";
import { awsDeployTargets } from "../../src/deploy/aws-targets.ts";
import { Controller } from "../../src/deploy/controller.ts";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import { REPO, RecordingObserver, TEST_CREDENTIALS, randomSha } from "../support/deploy-world.ts";
import { OFFLINE_ENVIRONMENT } from "../support/deployment-fixture.ts";
import { storeBackends } from "../support/stores.ts";
import { startAwsEmulator, type AwsEmulator } from "../world/aws/index.ts";

let emu: AwsEmulator;
let config: RepoConfig;
beforeAll(async () => {
  emu = await startAwsEmulator();
  const roleArn = emu.sts.createRole("gantry-web", { externalIds: [String(REPO.id)] });
  const production = { ...OFFLINE_ENVIRONMENT, aws: { region: emu.region, roleArn } };
  config = { ...repoConfigSchema.parse({ build: { repository: "sample-app" }, environments: {} }), environments: { production } };
});
afterAll(() => emu.close());

describe.each(storeBackends)("awsDeployTargets ($name)", (backend) => {
  async function controllerWith(accountIds?: string[]) {
    const store = await (await backend.location()).open();
    const deployments = new DeploymentStore(store);
    const targetsFor = awsDeployTargets({ endpoint: emu.endpoint, credentials: TEST_CREDENTIALS, ...(accountIds ? { accountIds } : {}) });
    const controller = new Controller({ deployments, observer: new RecordingObserver(), wake: () => {}, targetsFor });
    return { store, deployments, controller };
  }

  it("resolves the image through the role assumed for the repository's id, and keeps that id with the deployment", async () => {
    const { store, deployments, controller } = await controllerWith([emu.accountId]);
    const sha = randomSha();
    await emu.pushSampleImage(sha, { version: "v2" });
    const before = emu.sts.sessions.length;
    try {
      const started = await controller.start({ repo: REPO, config, environment: "production", sha, requestedBy: "octocat", pullRequest: 1 });
      expect(started.outcome).toBe("started");
      expect(emu.sts.sessions.slice(before).map((s) => [s.externalId, s.tags["gantry:environment"]])).toEqual([[String(REPO.id), "production"]]);
      const id = started.outcome === "refused" ? "" : started.deployment.id;
      // Every later tick, on any replica, builds its clients from the row: the id must survive it.
      expect((await deployments.get(id))?.repo).toEqual(REPO);
    } finally {
      await store.close();
    }
  });

  it("refuses, before any AWS call, a deployment whose role lives outside the server's accounts", async () => {
    const { store, controller } = await controllerWith(["111111111111"]);
    const calls = emu.calls.length;
    const sessions = emu.sts.sessions.length;
    try {
      const result = await controller.start({ repo: REPO, config, environment: "production", sha: randomSha(), requestedBy: "octocat", pullRequest: 1 });
      expect(result).toEqual({
        outcome: "refused",
        reason: expect.stringMatching(/^environments\.production\.aws\.roleArn: arn:aws:iam::123456789012:role\/gantry-web is in AWS account 123456789012, and this Gantry server assumes roles only in 111111111111 \(GANTRY_AWS_ACCOUNT_IDS\)/),
      });
      expect(await controller.history(REPO)).toEqual([]);
      expect(emu.calls.length).toBe(calls);
      expect(emu.sts.sessions.length).toBe(sessions);
    } finally {
      await store.close();
    }
  });
});

describe("awsDeployTargets against AWS itself (no endpoint of the server's)", () => {
  it("refuses an analysis interval shorter than CloudWatch's minute, saying what to set, and accepts a minute", () => {
    const production = config.environments.production!;
    const targetsFor = awsDeployTargets({ credentials: TEST_CREDENTIALS });
    const fast = { ...production, analysis: { ...production.analysis, interval: 1_000 } };
    expect(() => targetsFor(REPO, "production", fast)).toThrow(
      "environments.production.analysis.interval: CloudWatch has an ALB's metrics per minute, so the judge cannot look more often than every 1m; set 1m or more",
    );
    expect(() => targetsFor(REPO, "production", { ...production, analysis: { ...production.analysis, interval: 60_000 } })).not.toThrow();
    // The local world's own endpoint keeps its shortened minute.
    expect(() => awsDeployTargets({ endpoint: emu.endpoint, credentials: TEST_CREDENTIALS })(REPO, "production", fast)).not.toThrow();
  });
});
