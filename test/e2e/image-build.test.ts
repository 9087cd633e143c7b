// The image step end to end: GitHub emulator → Gantry → emulated CodeBuild and ECR → a deployment.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Phase, RepoRef } from "../../src/deploy/api.ts";
import { startLoad } from "../support/load.ts";
import { TEST_INSTALLATION_ID } from "../support/probot.ts";
import { sampleDockerfile } from "../world/sample-service/behaviour.ts";
import { deploymentReaching, eventually, FULL_NAME, NAME, OWNER, startE2eWorld, type E2eWorld } from "./world.ts";

describe("images end to end: a commit's image is built once, deployed by digest and promoted by a tag", () => {
  let e: E2eWorld;
  let REPO: RepoRef;
  beforeAll(async () => {
    e = await startE2eWorld({ imageBuilds: true });
    REPO = { owner: OWNER, repo: NAME, id: e.repo.id, installationId: TEST_INSTALLATION_ID };
    e.github.seedPermission(FULL_NAME, "writer", "write");
  });
  afterAll(async () => {
    await e?.close();
  });

  const imageChecks = (sha: string) => [...e.repo.checkRuns.values()].filter((run) => run.headSha === sha && run.name === "gantry/image");
  /** The image ECR holds under `tag`, or undefined. */
  const tagged = (tag: string) =>
    e.aws.ecr.describeImages({ repositoryName: e.world.repositoryName }).imageDetails.find((image) => image.imageTags?.includes(tag));
  /** Until the deployment of `sha` is live, with requests flowing so the judge has traffic to look at. */
  const live = async (sha: string) => {
    const load = startLoad(e.world.listeners.production.url, 150);
    try {
      return await until(sha, ["cooling", "succeeded"]);
    } finally {
      await load.stop();
    }
  };
  const until = (sha: string, phases: Phase[]) => deploymentReaching(e.gantry.controller, REPO, sha, phases);

  it("deploys a commit that has no image by building it first through CodeBuild, then promotes it by retag with the digest unchanged", async () => {
    const sha = await e.pullRequestWithoutImage(1, { Dockerfile: sampleDockerfile({ version: "v3" }) });
    expect(tagged(sha)).toBeUndefined();
    await e.comment(1, "writer", "/deploy production");
    const building = await until(sha, ["building"]);
    expect(building.imageDigest).toBeNull();
    const deployed = await live(sha);

    const built = tagged(sha)!;
    expect(deployed.imageDigest).toBe(built.imageDigest);
    expect(e.aws.codebuild.builds()).toHaveLength(1);
    // Promotion: the environment's tag is on the very image the deployment runs; nothing was pushed again.
    await eventually("env-production on the image", () => (tagged("env-production")?.imageDigest === built.imageDigest ? true : undefined));
    expect(tagged(sha)!.imageDigest).toBe(built.imageDigest);
    const response = await fetch(e.world.listeners.production.url);
    expect(response.headers.get("x-sample-version")).toBe("v3");

    await e.outboxSettled();
    const [check, ...more] = imageChecks(sha);
    expect(more).toEqual([]);
    expect(check).toMatchObject({ status: "completed", conclusion: "success", detailsUrl: expect.stringContaining("%2Faws%2Fcodebuild%2Fgantry-images") });
    expect(check!.output.title).toMatch(/^Image built in \d+s: sha256:/);
    expect(check!.output.summary).toContain(`\`${built.imageDigest}\``);
    expect(e.github.violations).toEqual([]);
  }, 90_000);

  it("builds ahead of any deploy when CI asks, and a later deploy of the commit reuses that image", async () => {
    const sha = await e.pullRequestWithoutImage(2, { Dockerfile: sampleDockerfile({ version: "v4" }) });
    const asked = await e.gantry.images!.buildImageForCommit({ repo: REPO, sha, config: { build: { repository: e.world.repositoryName, dockerfile: "Dockerfile", context: "." } } });
    expect(asked.status).toBe("building");
    await eventually("the image of the commit", () => tagged(sha));
    await e.outboxSettled();
    await eventually("gantry/image completed", () => (imageChecks(sha)[0]?.status === "completed" ? true : undefined));
    const builds = e.aws.codebuild.builds().length;

    await e.comment(2, "writer", "/deploy production");
    const deployed = await live(sha);
    expect(deployed.imageDigest).toBe(tagged(sha)!.imageDigest);
    expect(e.aws.codebuild.builds()).toHaveLength(builds);
    const phases = (await e.gantry.controller.history(REPO)).filter((deployment) => deployment.sha === sha);
    expect(phases).toHaveLength(1);
  }, 90_000);

  it("3 a.m.: a deploy whose build fails ends failed with the build's reason, traffic untouched", async () => {
    const sha = await e.pullRequestWithoutImage(3, { Dockerfile: "FROM node:24-slim\nRUN false\n" });
    const before = await e.liveWeights();
    await e.comment(3, "writer", "/deploy production");
    const failed = await until(sha, ["failed"]);
    expect(failed.reason).toMatch(/^the image build failed: CodeBuild build FAILED in BUILD: .*did not complete successfully/);
    expect(await e.liveWeights()).toEqual(before);
    await e.outboxSettled();
    await eventually("gantry/image failed", () => (imageChecks(sha)[0]?.conclusion === "failure" ? true : undefined));
    expect(imageChecks(sha)[0]!.output.title).toBe("Image build failed");
  }, 90_000);
});
