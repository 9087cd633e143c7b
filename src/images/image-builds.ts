import type { RepoConfig } from "../config/repo-config.ts";
import { buildPathProblem, normalBuildPath } from "./build-paths.ts";
import type { ImageBuildRow, ImageBuildStore, ImageRequest, RecordChange } from "./build-store.ts";
import { buildRefOf } from "./build-store.ts";

export type ImageStatus =
  | { status: "ready"; buildId: string; digest: string; reused: boolean }
  | { status: "building"; buildId: string; logsUrl: string | null }
  | { status: "failed"; buildId: string; reason: string }
  | { status: "refused"; reason: string };

/** What the deploy controller asks of the image step: the commit's image, built once if it has none. */
export interface ImageRequests {
  /**
   * Asks for the image and answers at once with where it stands; never waits for a build. A build
   * that failed before `since` is tried again; one that failed since is the answer.
   */
  ensure(request: ImageRequest, since: number): Promise<ImageStatus>;
}

export interface ImageBuildsOptions {
  builds: ImageBuildStore;
  /** Records the `gantry/image` check run's change with the request. */
  record?: RecordChange;
  /** Tells the build loop there is work now rather than at its next poll. */
  wake: () => void;
}

/** The image step's front door: one build per commit and ECR repository, on every replica (build-store.ts). */
export class ImageBuilds implements ImageRequests {
  readonly #options: ImageBuildsOptions;

  constructor(options: ImageBuildsOptions) {
    this.#options = options;
  }

  async ensure(request: ImageRequest, since: number): Promise<ImageStatus> {
    const problem = buildPathProblem(request.dockerfile) ?? buildPathProblem(request.context);
    if (problem) return { status: "refused", reason: `build.dockerfile and build.context in .github/gantry.yml: the path ${problem}` };
    const normal = { ...request, dockerfile: normalBuildPath(request.dockerfile), context: normalBuildPath(request.context) };
    const { row, recorded } = await this.#options.builds.request(normal, since, this.#options.record);
    if (recorded) this.#options.wake();
    return imageStatus(row);
  }

  /**
   * The entry point for CI: `gantry/test` passed on the default branch, so build the commit's image
   * now (once; a tag already in ECR is reused), ahead of any deploy. Answers at once; the
   * `gantry/image` check run reports the outcome.
   */
  buildImageForCommit(commit: { repo: ImageRequest["repo"]; sha: string; config: Pick<RepoConfig, "build"> }): Promise<ImageStatus> {
    const { build } = commit.config;
    if (!build) return Promise.resolve({ status: "refused", reason: "no ECR repository is configured: set build.repository in .github/gantry.yml" });
    const request = { repo: commit.repo, sha: commit.sha, ecrRepository: build.repository, dockerfile: build.dockerfile, context: build.context };
    return this.ensure(request, this.#options.builds.now);
  }
}

function imageStatus(row: ImageBuildRow): ImageStatus {
  switch (row.status) {
    case "succeeded":
      return { status: "ready", buildId: row.id, digest: row.digest ?? "", reused: row.builder === "existing" };
    case "failed":
      return { status: "failed", buildId: row.id, reason: row.reason ?? "the build failed" };
    default:
      return { status: "building", buildId: row.id, logsUrl: buildRefOf(row)?.logsUrl ?? null };
  }
}
