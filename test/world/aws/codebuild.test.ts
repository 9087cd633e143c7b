// The emulated CodeBuild and ECR's tag settings, through the real SDK clients.
import { BatchGetBuildsCommand, CodeBuildClient, ImportSourceCredentialsCommand, ResourceNotFoundException, StartBuildCommand } from "@aws-sdk/client-codebuild";
import { BatchGetImageCommand, CreateRepositoryCommand, ECRClient, ImageTagAlreadyExistsException, PutImageCommand } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { behaviourFromManifest } from "../sample-service/behaviour.ts";
import { startGithubEmulator, type GithubEmulator } from "../github/emulator.ts";
import { startAwsEmulator, type AwsEmulator } from "./index.ts";
import { waitFor } from "./test-helpers.ts";

const FAKE_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln";

let aws: AwsEmulator;
let github: GithubEmulator;
let codebuild: CodeBuildClient;
let ecr: ECRClient;

async function installationToken(): Promise<string> {
  const response = await fetch(`${github.url}/app/installations/9/access_tokens`, { method: "POST", headers: { authorization: `Bearer ${FAKE_JWT}` } });
  return ((await response.json()) as { token: string }).token;
}

beforeAll(async () => {
  github = await startGithubEmulator();
  github.seedRepo({ owner: "octo", name: "shop", installationId: 9 });
  aws = await startAwsEmulator({ buildMs: 50 });
  aws.codebuild.createProject("gantry-images");
  codebuild = new CodeBuildClient(aws.clientConfig());
  ecr = new ECRClient(aws.clientConfig());
  await ecr.send(new CreateRepositoryCommand({ repositoryName: "shop", imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filterType: "WILDCARD", filter: "env-*" }] }));
  await codebuild.send(new ImportSourceCredentialsCommand({ token: await installationToken(), serverType: "GITHUB_ENTERPRISE", authType: "PERSONAL_ACCESS_TOKEN" }));
});
afterAll(async () => {
  await aws.close();
  await github.close();
});

function start(sha: string, extra: { dockerfile?: string; token?: string } = {}) {
  return codebuild.send(
    new StartBuildCommand({
      projectName: "gantry-images",
      sourceTypeOverride: "GITHUB_ENTERPRISE",
      sourceLocationOverride: `${github.url}/octo/shop.git`,
      sourceVersion: sha,
      privilegedModeOverride: true,
      environmentVariablesOverride: [
        { name: "GANTRY_SHA", value: sha, type: "PLAINTEXT" },
        { name: "GANTRY_ECR_REPOSITORY", value: "shop", type: "PLAINTEXT" },
        { name: "GANTRY_DOCKERFILE", value: extra.dockerfile ?? "Dockerfile", type: "PLAINTEXT" },
        { name: "GANTRY_CONTEXT", value: ".", type: "PLAINTEXT" },
      ],
      ...(extra.token ? { idempotencyToken: extra.token } : {}),
    }),
  );
}

function finished(id: string) {
  return waitFor(`build ${id}`, async () => {
    const build = (await codebuild.send(new BatchGetBuildsCommand({ ids: [id] }))).builds?.[0];
    return build?.buildStatus !== "IN_PROGRESS" && build;
  });
}

describe("CodeBuild", () => {
  it("builds the commit's Dockerfile from GitHub's tarball and pushes it to ECR, behaving as its LABEL says", async () => {
    const sha = github.seedCommit("octo/shop", {
      files: { Dockerfile: `FROM node:24\nLABEL dev.gantry.sample.behaviour='{"version":"v7","errorRate":0.25}' other=x\nCMD ["node", "server.js"]\n` },
    });
    const { build } = await start(sha);
    expect(build).toMatchObject({ buildStatus: "IN_PROGRESS", projectName: "gantry-images", logs: { groupName: "/aws/codebuild/gantry-images" } });
    const done = await finished(build!.id!);
    expect(done).toMatchObject({ buildStatus: "SUCCEEDED", currentPhase: "COMPLETED", resolvedSourceVersion: sha });
    const image = (await ecr.send(new BatchGetImageCommand({ repositoryName: "shop", imageIds: [{ imageTag: sha }] }))).images?.[0];
    expect(behaviourFromManifest(image?.imageManifest ?? "")).toEqual({ version: "v7", errorRate: 0.25 });
  });

  it("starts one build for a repeated idempotency token", async () => {
    const sha = github.seedCommit("octo/shop", { files: { Dockerfile: "FROM node:24\n# two\n" } });
    const first = await start(sha, { token: "token-1" });
    const again = await start(sha, { token: "token-1" });
    expect(again.build?.id).toBe(first.build?.id);
    await finished(first.build!.id!);
  });

  it("fails a build whose Dockerfile fails, saying in which phase and why", async () => {
    const sha = github.seedCommit("octo/shop", { files: { Dockerfile: "FROM node:24\nRUN false\n" } });
    const done = await finished((await start(sha)).build!.id!);
    expect(done).toMatchObject({ buildStatus: "FAILED" });
    const failed = done.phases?.find((phase) => phase.phaseStatus === "FAILED");
    expect(failed?.phaseType).toBe("BUILD");
    expect(failed?.contexts?.[0]?.message).toContain("did not complete successfully");
  });

  it("fails a build whose Dockerfile is missing", async () => {
    const sha = github.seedCommit("octo/shop", { files: { "README.md": "no Dockerfile\n" } });
    const done = await finished((await start(sha, { dockerfile: "deploy/Dockerfile" })).build!.id!);
    expect(done.phases?.find((phase) => phase.phaseStatus === "FAILED")?.contexts?.[0]?.message).toContain("deploy/Dockerfile: no such file");
  });

  it("answers ResourceNotFoundException for a project that does not exist", async () => {
    await expect(codebuild.send(new StartBuildCommand({ projectName: "nope" }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe("ECR tag immutability", () => {
  it("refuses to move an immutable tag, and moves one its exclusion filter names", async () => {
    const manifest = (n: number) => JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: {}, layers: [], annotations: { n: String(n) } });
    await ecr.send(new PutImageCommand({ repositoryName: "shop", imageManifest: manifest(1), imageTag: "a".repeat(40) }));
    await expect(ecr.send(new PutImageCommand({ repositoryName: "shop", imageManifest: manifest(2), imageTag: "a".repeat(40) }))).rejects.toBeInstanceOf(ImageTagAlreadyExistsException);
    await ecr.send(new PutImageCommand({ repositoryName: "shop", imageManifest: manifest(1), imageTag: "env-production" }));
    await ecr.send(new PutImageCommand({ repositoryName: "shop", imageManifest: manifest(2), imageTag: "env-production" }));
    const held = (await ecr.send(new BatchGetImageCommand({ repositoryName: "shop", imageIds: [{ imageTag: "env-production" }] }))).images?.[0];
    expect(JSON.parse(held?.imageManifest ?? "{}").annotations.n).toBe("2");
  });
});
