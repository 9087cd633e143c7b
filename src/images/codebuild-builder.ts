// ImageBuilder on AWS CodeBuild: StartBuild of the operator's project with the commit as source and
// Gantry's buildspec; BatchGetBuilds to follow it; the build's CloudWatch Logs link for people.
import { BatchGetBuildsCommand, StartBuildCommand, type Build, type CodeBuildClient } from "@aws-sdk/client-codebuild";
import { buildspecVariables, BUILDSPEC } from "./buildspec.ts";
import { BuildRefused, type BuildInput, type BuildProgress, type BuildRef, type ImageBuilder } from "./image-builder.ts";

export interface CodeBuildBuilderOptions {
  codebuild: CodeBuildClient;
  /** The operator's project (GANTRY_CODEBUILD_PROJECT): its service role, compute and network; never a repository's choice. */
  project: string;
  /** GitHub's web address for the server's GITHUB_API_URL, e.g. https://github.com: where CodeBuild fetches the source. */
  githubWebUrl: string;
}

const FAILED = new Set(["FAILED", "FAULT", "TIMED_OUT", "STOPPED"]);

export class CodeBuildBuilder implements ImageBuilder {
  readonly #options: CodeBuildBuilderOptions;

  constructor(options: CodeBuildBuilderOptions) {
    this.#options = options;
  }

  async start(input: BuildInput): Promise<BuildRef> {
    const { githubWebUrl, project } = this.#options;
    const out = await this.#options.codebuild.send(
      new StartBuildCommand({
        projectName: project,
        sourceTypeOverride: new URL(githubWebUrl).hostname === "github.com" ? "GITHUB" : "GITHUB_ENTERPRISE",
        sourceLocationOverride: `${githubWebUrl}/${input.owner}/${input.repo}.git`,
        sourceVersion: input.sha,
        buildspecOverride: BUILDSPEC,
        // Docker builds need a privileged build container.
        privilegedModeOverride: true,
        environmentVariablesOverride: buildspecVariables(input),
        // Repeated within CodeBuild's window (a crash between StartBuild and saving its id), it starts nothing new.
        idempotencyToken: input.id,
      }),
    ).catch((error: unknown) => {
      if (error instanceof Error && error.name === "ResourceNotFoundException") {
        throw new BuildRefused(`CodeBuild project ${project} does not exist in the build account and region (GANTRY_CODEBUILD_PROJECT)`);
      }
      throw error;
    });
    const build = out.build;
    if (!build?.id) throw new Error("CodeBuild started a build but returned no id");
    return { builder: "codebuild", id: build.id, logsUrl: build.logs?.deepLink ?? null };
  }

  async progress(ref: BuildRef): Promise<BuildProgress> {
    const out = await this.#options.codebuild.send(new BatchGetBuildsCommand({ ids: [ref.id] }));
    const build = out.builds?.[0];
    if (!build) return { state: "failed", reason: `CodeBuild no longer knows build ${ref.id}` };
    const status = build.buildStatus ?? "IN_PROGRESS";
    if (status === "SUCCEEDED") return { state: "succeeded" };
    if (FAILED.has(status)) return { state: "failed", reason: failureReason(build, status) };
    return { state: "running" };
  }
}

/** "CodeBuild build FAILED in BUILD: Error while executing command: docker build … Reason: exit status 1". */
function failureReason(build: Build, status: string): string {
  const phase = build.phases?.find((candidate) => candidate.phaseStatus !== undefined && candidate.phaseStatus !== "SUCCEEDED");
  const message = phase?.contexts?.map((context) => context.message).find((text) => text) ?? "";
  return `CodeBuild build ${status}${phase?.phaseType ? ` in ${phase.phaseType}` : ""}${message ? `: ${message}` : ""}`;
}
