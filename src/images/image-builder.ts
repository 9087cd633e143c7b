import { z } from "zod";

/** What a builder needs to build one commit's image and push it to ECR as `<repository>:<sha>`. */
export interface BuildInput {
  /** The build's id, also the idempotency token of its start: starting it again starts nothing new. */
  id: string;
  owner: string;
  repo: string;
  /** The GitHub App installation that can read the repository (a local build downloads its tarball). */
  installationId: number;
  sha: string;
  ecrRepository: string;
  /** Paths inside the repository, already checked (build-paths.ts). */
  dockerfile: string;
  context: string;
}

/** How to follow a started build, persisted so a restarted Gantry follows it instead of starting another. */
export const buildRefSchema = z.object({
  builder: z.enum(["codebuild", "local"]),
  /** CodeBuild's build id, or the local build's id. */
  id: z.string(),
  /** Where a person reads the build's log, when there is such a place. */
  logsUrl: z.string().nullable(),
});
export type BuildRef = z.infer<typeof buildRefSchema>;

export type BuildProgress = { state: "running" } | { state: "succeeded" } | { state: "failed"; reason: string };

/** Builds a commit's Dockerfile and pushes the image; `codebuild` on AWS, `local` with docker, podman or buildah. */
export interface ImageBuilder {
  start(input: BuildInput): Promise<BuildRef>;
  progress(ref: BuildRef): Promise<BuildProgress>;
}

/** The builder refuses for a reason no retry changes (no build tool, a project that does not exist): the build fails at once. */
export class BuildRefused extends Error {}
