// The image step on the local world: the GitHub emulator holds the repository, the AWS emulator's
// CodeBuild fetches from it and pushes to its ECR, and the build loops run in this process on a store.
import { CreateRepositoryCommand, ECRClient } from "@aws-sdk/client-ecr";
import { CodeBuildClient, ImportSourceCredentialsCommand } from "@aws-sdk/client-codebuild";
import type { ClaimLoop } from "../../src/store/claim-loop.ts";
import { imageBuildLoop, type BuildLoopTiming, type BuildTargetsFactory } from "../../src/images/build-loop.ts";
import { ImageBuildStore, type BuildClaim, type ImageBuildRow, type ImageRequest } from "../../src/images/build-store.ts";
import { imageBuildTargets } from "../../src/images/build-targets.ts";
import { ImageBuilds } from "../../src/images/image-builds.ts";
import type { Store } from "../../src/store/open-store.ts";
import { TEST_CREDENTIALS } from "../support/deploy-world.ts";
import { silentLog } from "../support/probot.ts";
import { startAwsEmulator, type AwsEmulator } from "../world/aws/index.ts";
import { startGithubEmulator, type GithubEmulator } from "../world/github/emulator.ts";

const FAKE_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln";
export const PROJECT = "gantry-images";
export const ECR_REPOSITORY = "web";
const INSTALLATION_ID = 9;

/** The operator's ECR repository: SHA tags immutable, environment tags free to move. */
export async function createImmutableRepository(aws: AwsEmulator, name: string): Promise<void> {
  const ecr = new ECRClient(aws.clientConfig());
  await ecr.send(
    new CreateRepositoryCommand({ repositoryName: name, imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filterType: "WILDCARD", filter: "env-*" }] }),
  );
}

/** What an operator does once: the CodeBuild project, GitHub source credentials, the build role. */
export async function prepareBuildAccount(aws: AwsEmulator, github: GithubEmulator, installationId: number, repositoryIds: number[]): Promise<{ roleArn: string }> {
  aws.codebuild.createProject(PROJECT);
  const response = await fetch(`${github.url}/app/installations/${installationId}/access_tokens`, { method: "POST", headers: { authorization: `Bearer ${FAKE_JWT}` } });
  const { token } = (await response.json()) as { token: string };
  await new CodeBuildClient(aws.clientConfig()).send(new ImportSourceCredentialsCommand({ token, serverType: "GITHUB_ENTERPRISE", authType: "PERSONAL_ACCESS_TOKEN" }));
  return { roleArn: aws.sts.createRole("gantry-image-builds", { externalIds: repositoryIds.map(String) }) };
}

export interface BuildWorld {
  aws: AwsEmulator;
  github: GithubEmulator;
  builds: ImageBuildStore;
  images: ImageBuilds;
  targetsFor: BuildTargetsFactory;
  repo: ImageRequest["repo"];
  /** A commit of the repository with these files; returns its SHA. */
  commit(files: Record<string, string>): string;
  request(sha: string, paths?: { dockerfile?: string; context?: string }): ImageRequest;
  /** A build loop as one replica runs it; stopped by close. */
  startLoop(instanceId: string, timing?: Partial<BuildLoopTiming>): ClaimLoop<BuildClaim>;
  /** The build's row once it has ended (succeeded or failed). */
  ended(sha: string, timeoutMs?: number): Promise<ImageBuildRow>;
  startBuilds(): number;
  close(): Promise<void>;
}

export async function startBuildWorld(store: Store, options: { buildMs?: number } = {}): Promise<BuildWorld> {
  const github = await startGithubEmulator();
  const seeded = github.seedRepo({ owner: "acme", name: "web", installationId: INSTALLATION_ID });
  const aws = await startAwsEmulator({ buildMs: options.buildMs ?? 50 });
  await createImmutableRepository(aws, ECR_REPOSITORY);
  const { roleArn } = await prepareBuildAccount(aws, github, INSTALLATION_ID, [seeded.id]);
  const targetsFor = imageBuildTargets({
    builder: "codebuild",
    region: aws.region,
    project: PROJECT,
    roleArn,
    endpoint: aws.endpoint,
    credentials: TEST_CREDENTIALS,
    githubWebUrl: github.url,
  });
  const builds = new ImageBuildStore(store);
  const loops: ClaimLoop<BuildClaim>[] = [];
  const repo = { owner: "acme", repo: "web", id: seeded.id, installationId: INSTALLATION_ID };
  const images = new ImageBuilds({ builds, wake: () => loops.forEach((loop) => loop.wake()) });
  return {
    aws,
    github,
    builds,
    images,
    targetsFor,
    repo,
    commit: (files) => github.seedCommit("acme/web", { files }),
    request: (sha, paths = {}) => ({ repo, sha, ecrRepository: ECR_REPOSITORY, dockerfile: paths.dockerfile ?? "Dockerfile", context: paths.context ?? "." }),
    startLoop(instanceId, timing = {}) {
      const loop = imageBuildLoop({ builds, targetsFor, log: silentLog, instanceId, timing: { pollMs: 50, leaseMs: 2_000, ...timing } });
      loop.start();
      loops.push(loop);
      return loop;
    },
    async ended(sha, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const row = await builds.find(ECR_REPOSITORY, sha);
        if (row && (row.status === "succeeded" || row.status === "failed")) return row;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`the build of ${sha} did not end`);
    },
    startBuilds: () => aws.calls.filter((call) => call.service === "codebuild" && call.operation === "StartBuild").length,
    async close() {
      for (const loop of loops) await loop.stop();
      await aws.close();
      await github.close();
    },
  };
}
