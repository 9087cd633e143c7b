import type { Logger } from "probot";
import { isThrottling } from "../aws/throttling.ts";
import { publicErrorText } from "../notify/public-text.ts";
import { ClaimLoop } from "../store/claim-loop.ts";
import { buildPathProblem, normalBuildPath } from "./build-paths.ts";
import { buildRefOf, type BuildClaim, type ImageBuildStore, type RecordChange } from "./build-store.ts";
import { BuildRefused, type ImageBuilder } from "./image-builder.ts";
import type { ImageRegistry } from "./registry.ts";

/** Where one repository's images are built and found: both with the operator's build identity. */
export interface BuildTargets {
  builder: ImageBuilder;
  /** ECR as the builder pushes to it: the tag `<sha>` is looked for here before and after a build. */
  registry: ImageRegistry;
  /** Puts Gantry's lifecycle policy on a repository that has none (GANTRY_ECR_KEEP_IMAGES); absent when the operator did not ask. */
  ensureLifecyclePolicy?: (repository: string) => Promise<boolean>;
}

export type BuildTargetsFactory = (repo: { owner: string; repo: string; id: number }) => BuildTargets;

export interface BuildLoopTiming {
  /** How often a running build is looked at (CodeBuild's BatchGetBuilds). */
  pollMs: number;
  /** A claimed build is this replica's for this long; a crashed replica's is followed by another after it. */
  leaseMs: number;
  /** Consecutive failed looks (AWS errors other than throttling) before a build is given up as failed. */
  maxFailures: number;
}

export const DEFAULT_BUILD_TIMING: BuildLoopTiming = { pollMs: 10_000, leaseMs: 60_000, maxFailures: 5 };

export interface BuildLoopOptions {
  builds: ImageBuildStore;
  targetsFor: BuildTargetsFactory;
  /** Records a build's change (its `gantry/image` check run) in the transaction that saves it. */
  record?: RecordChange;
  log: Logger;
  instanceId: string;
  timing?: Partial<BuildLoopTiming>;
  concurrency?: number;
}

/**
 * Starts requested builds and follows running ones, on whichever replica claims them. Each look is
 * one step saved before the next: a requested build is first looked for in ECR (an image pushed by
 * anyone counts), then started with its id as idempotency token; a running one is asked for its
 * progress. A replica that stops mid-build leaves the row `building` with how to follow it, and the
 * next claimer follows the same build: nothing is built twice.
 */
export function imageBuildLoop(options: BuildLoopOptions): ClaimLoop<BuildClaim> {
  const timing = { ...DEFAULT_BUILD_TIMING, ...options.timing };
  return new ClaimLoop({
    name: "image-builds",
    log: options.log,
    concurrency: options.concurrency ?? 4,
    pollMs: Math.min(timing.pollMs, 1_000),
    claim: () => options.builds.claimNext(options.instanceId, timing.leaseMs),
    handle: async (claim) => {
      const change = await look(claim, options, timing).catch((error: unknown) => afterError(claim, error, options, timing));
      if (!(await options.builds.save(claim, change, options.record))) {
        options.log.warn({ build: claim.row.id }, "image-builds: claim lost before saving; another replica follows the build");
        return;
      }
      if (change.status !== undefined && change.status !== claim.row.status) {
        options.log.info({ build: claim.row.id, sha: claim.row.sha, repository: claim.row.ecr_repository, to: change.status, reason: change.reason }, "image build moved");
      }
    },
  });
}

type Change = Parameters<ImageBuildStore["save"]>[1];

async function look(claim: BuildClaim, options: BuildLoopOptions, timing: BuildLoopTiming): Promise<Change> {
  const { row } = claim;
  const now = options.builds.now;
  const targets = options.targetsFor({ owner: row.owner, repo: row.repo, id: Number(row.repository_id) });
  if (row.status === "requested") {
    await lifecyclePolicyOnce(targets, row.ecr_repository, options.log);
    const existing = await targets.registry.resolve(row.ecr_repository, row.sha);
    if (existing) return { status: "succeeded", builder: "existing", digest: existing.digest, started_at: now, finished_at: now, failures: 0, reason: null };
    const problem = buildPathProblem(row.dockerfile) ?? buildPathProblem(row.context);
    if (problem) return failed(now, `the Dockerfile or build context ${problem}`);
    const input = {
      id: row.id,
      owner: row.owner,
      repo: row.repo,
      installationId: Number(row.installation_id),
      sha: row.sha,
      ecrRepository: row.ecr_repository,
      dockerfile: normalBuildPath(row.dockerfile),
      context: normalBuildPath(row.context),
    };
    const ref = await targets.builder.start(input);
    return { status: "building", builder: ref.builder, build_ref: JSON.stringify(ref), started_at: now, next_check_at: now + timing.pollMs, failures: 0, reason: null };
  }
  const ref = buildRefOf(row);
  if (!ref) return { status: "requested", next_check_at: now };
  const progress = await targets.builder.progress(ref);
  if (progress.state === "running") return { next_check_at: now + timing.pollMs, failures: 0 };
  if (progress.state === "failed") return failed(now, progress.reason);
  const built = await targets.registry.resolve(row.ecr_repository, row.sha);
  if (!built) return failed(now, `the build succeeded but ECR repository ${row.ecr_repository} has no image tagged ${row.sha}: check the project's buildspec pushes there`);
  return { status: "succeeded", digest: built.digest, finished_at: now, failures: 0, reason: null };
}

const policyChecked = new Set<string>();

/** Once per repository and process; a refusal is logged and never fails a build. */
async function lifecyclePolicyOnce(targets: BuildTargets, repository: string, log: Logger): Promise<void> {
  if (!targets.ensureLifecyclePolicy || policyChecked.has(repository)) return;
  policyChecked.add(repository);
  try {
    if (await targets.ensureLifecyclePolicy(repository)) log.info({ repository }, "image-builds: put Gantry's lifecycle policy on the ECR repository");
  } catch (error) {
    log.warn({ repository, err: error }, "image-builds: could not put the lifecycle policy on the ECR repository; images are kept");
  }
}

function failed(now: number, reason: string): Change {
  return { status: "failed", reason, finished_at: now, failures: 0 };
}

/** Throttling waits; a refusal no retry changes fails the build at once; other errors are retried, then fail it. */
function afterError(claim: BuildClaim, error: unknown, options: BuildLoopOptions, timing: BuildLoopTiming): Change {
  const now = options.builds.now;
  const reason = publicErrorText(error);
  options.log.warn({ build: claim.row.id, err: error }, "image-builds: a look at the build failed");
  if (error instanceof BuildRefused) return failed(now, error.message);
  if (error instanceof Error && error.name === "RepositoryNotFoundException") {
    return failed(now, `ECR repository ${claim.row.ecr_repository} does not exist: create it (tags immutable), or fix build.repository in .github/gantry.yml`);
  }
  if (isThrottling(error)) return { next_check_at: now + timing.pollMs * (1 + Math.random()) };
  const failures = claim.row.failures + 1;
  if (failures >= timing.maxFailures) return failed(now, `gave up after ${failures} failed attempts: ${reason}`);
  return { failures, reason, next_check_at: now + Math.min(timing.pollMs * 2 ** (failures - 1), 5 * 60_000) };
}
