// CI and the image step joined end to end: a push to the default branch runs the fixture project's
// tests in shards; once `gantry/test` passes, Gantry builds the commit's image once through emulated
// CodeBuild, and a `/deploy` of that commit ships that very image without building again.
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TERMINAL_PHASES, type DeploymentView, type RepoRef } from "../../src/deploy/api.ts";
import { ImageBuildStore } from "../../src/images/build-store.ts";
import { sampleConfigInput } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";
import { TEST_INSTALLATION_ID } from "../support/probot.ts";
import { sampleDockerfile } from "../world/sample-service/behaviour.ts";
import { ciProjectFiles } from "../fixtures/ci-project-files.ts";
import { FAILING_STRINGS } from "./ci-world.ts";
import { eventually, FULL_NAME, NAME, OWNER, startE2eWorld, type E2eWorld } from "./world.ts";

describe("images after tests: a default-branch commit whose tests pass gets its image built once, and a deploy reuses it", { timeout: 180_000 }, () => {
  let e: E2eWorld;
  let REPO: RepoRef;
  /** The fixture project with a Dockerfile, and a `.github/gantry.yml` holding its `ci` settings, `build` and production. */
  let project: (changes?: Record<string, string>) => Record<string, string>;

  beforeAll(async () => {
    e = await startE2eWorld({ imageBuilds: true, ciWatchMs: 200 });
    REPO = { owner: OWNER, repo: NAME, id: e.repo.id, installationId: TEST_INSTALLATION_ID };
    e.github.seedPermission(FULL_NAME, "writer", "write");
    const files = ciProjectFiles();
    const { ci } = parse(files[".github/gantry.yml"]!) as { ci: unknown };
    const config = stringify({ ...sampleConfigInput(e.aws, e.world), ci });
    let pushes = 0;
    // Each push is a new commit, even with the same tree.
    project = (changes = {}) => ({ ...files, Dockerfile: sampleDockerfile({ version: "v7" }), "PUSHED.md": `push ${++pushes}\n`, ...changes, ".github/gantry.yml": config });
  });
  afterAll(async () => {
    await e?.close();
  });

  const checkRun = (sha: string, name: string) =>
    eventually(`${name} on ${sha.slice(0, 7)} to complete`, () =>
      [...e.repo.checkRuns.values()].filter((run) => run.headSha === sha && run.name === name && run.status === "completed").toSorted((a, b) => b.id - a.id)[0],
    120_000);
  const checkRuns = (sha: string, name: string) => [...e.repo.checkRuns.values()].filter((run) => run.headSha === sha && run.name === name);
  const buildsOf = (sha: string) => e.aws.codebuild.builds().filter((build) => build.sourceVersion === sha);
  const tagged = (tag: string) => e.aws.ecr.describeImages({ repositoryName: e.world.repositoryName }).imageDetails.find((image) => image.imageTags?.includes(tag));

  it("passes the shards, builds the image once, reports its digest on gantry/image, and a /deploy of the commit reuses it", async () => {
    const sha = await e.push(e.repo.defaultBranch, project());
    expect((await checkRun(sha, "gantry/test")).conclusion).toBe("success");
    const shards = await Promise.all([checkRun(sha, "gantry/test (1/2)"), checkRun(sha, "gantry/test (2/2)")]);
    expect(shards.map((shard) => shard.conclusion)).toEqual(["success", "success"]);

    const image = await eventually("the commit's image in ECR", () => tagged(sha), 120_000);
    const check = await checkRun(sha, "gantry/image");
    expect(check.conclusion).toBe("success");
    expect(check.output.title).toMatch(/^Image built in \d+s: sha256:/);
    expect(check.output.summary).toContain(`\`${image.imageDigest}\``);
    expect(buildsOf(sha)).toHaveLength(1);
    expect(e.aws.codebuild.builds()).toHaveLength(1);

    // A deploy of that commit (the head of a pull request): the image is found, not built again, and the deployment pins its digest.
    e.github.seedPull(FULL_NAME, { number: 1, user: "author", head: { ref: "release-1", sha } });
    await e.comment(1, "writer", "/deploy production");
    const load = startLoad(e.world.listeners.production.url, 150);
    let deployed: DeploymentView;
    try {
      deployed = await eventually("the deployment to go live", async () =>
        (await e.gantry.controller.history(REPO)).find((deployment) => deployment.sha === sha && (deployment.phase === "cooling" || TERMINAL_PHASES.has(deployment.phase))),
      120_000).catch(async (error: unknown) => {
        throw new Error(`${String(error)}; history: ${JSON.stringify(await e.gantry.controller.history(REPO))}; replies: ${JSON.stringify([...e.repo.comments.values()].map((comment) => comment.body))}`);
      });
    } finally {
      await load.stop();
    }
    expect(["cooling", "succeeded"], `${deployed.phase}: ${deployed.reason}`).toContain(deployed.phase);
    expect(deployed.imageDigest).toBe(image.imageDigest);
    expect(e.aws.codebuild.builds()).toHaveLength(1);
    await e.outboxSettled();
    expect(checkRuns(sha, "gantry/image")).toHaveLength(1);
    expect(e.github.violations).toEqual([]);
  });

  it("builds nothing for a default-branch commit whose tests fail", async () => {
    const builds = new ImageBuildStore(e.gantry.store);
    const failing = await e.push(e.repo.defaultBranch, project({ "src/strings.mjs": FAILING_STRINGS }));
    expect((await checkRun(failing, "gantry/test")).conclusion).toBe("failure");
    // A passing commit after it: once its image is in, the failing run's completion has long been heard.
    const passing = await e.push(e.repo.defaultBranch, project());
    await eventually("the passing commit's image in ECR", () => tagged(passing), 120_000);
    await e.outboxSettled();
    expect(await builds.find(e.world.repositoryName, failing)).toBeUndefined();
    expect(buildsOf(failing)).toEqual([]);
    expect(tagged(failing)).toBeUndefined();
    expect(checkRuns(failing, "gantry/image")).toEqual([]);
  });
});
