import type { Logger, ProbotOctokit } from "probot";
import type { CiService } from "../ci/ci-service.ts";
import type { AwsAccountIds } from "../config/aws-accounts.ts";
import { loadRepoConfig } from "../config/load-repo-config.ts";
import type { ImageBuilds } from "./image-builds.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

/**
 * When a default-branch commit's `gantry/test` passes, its image is built once (or found in ECR),
 * so a deploy of it does not wait for a build. The commit's own config names the ECR repository; a
 * bad config builds nothing (its `gantry/config` check run already says why).
 */
export function buildImagesAfterTests(options: { ci: CiService; images: ImageBuilds; readerFor: (installationId: number) => Promise<Octokit>; awsAccountIds: AwsAccountIds; log: Logger }): void {
  const { ci, images, readerFor, log } = options;
  ci.onTestsPassed(async (event) => {
    const octokit = await readerFor(event.installationId);
    const loaded = await loadRepoConfig(octokit, { owner: event.owner, repo: event.repo, ref: event.sha }, { awsAccountIds: options.awsAccountIds });
    if (loaded.status !== "valid" || !loaded.config.build) return;
    const repo = { owner: event.owner, repo: event.repo, id: event.repositoryId, installationId: event.installationId };
    const image = await images.buildImageForCommit({ repo, sha: event.sha, config: loaded.config });
    log.info({ repo: `${event.owner}/${event.repo}`, sha: event.sha, image: image.status }, "image step after gantry/test passed");
  });
}
