// ImageBuilder on this machine: docker, podman or buildah when one is installed. Without one, every
// build fails at once with a message saying what to install or to use CodeBuild instead.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { BuildRefused, type BuildInput, type BuildProgress, type BuildRef, type ImageBuilder } from "./image-builder.ts";

const TOOLS = ["docker", "podman", "buildah"] as const;

/** The first container build tool on PATH, or undefined. */
export function findBuildTool(path = process.env.PATH ?? ""): { tool: (typeof TOOLS)[number]; file: string } | undefined {
  for (const tool of TOOLS) {
    for (const dir of path.split(delimiter).filter(Boolean)) {
      const file = join(dir, tool);
      try {
        accessSync(file, constants.X_OK);
        return { tool, file };
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export class LocalBuilder implements ImageBuilder {
  readonly #path: string | undefined;

  constructor(options: { path?: string } = {}) {
    this.#path = options.path;
  }

  start(input: BuildInput): Promise<BuildRef> {
    const found = findBuildTool(this.#path);
    if (!found) {
      return Promise.reject(
        new BuildRefused(
          `GANTRY_IMAGE_BUILDER is local, but this machine has no docker, podman or buildah on its PATH to build ${input.ecrRepository}:${input.sha}: install one, or set GANTRY_IMAGE_BUILDER=codebuild`,
        ),
      );
    }
    return Promise.reject(
      new BuildRefused(`${found.tool} was found at ${found.file}, but local builds are not yet supported by this Gantry: set GANTRY_IMAGE_BUILDER=codebuild`),
    );
  }

  progress(ref: BuildRef): Promise<BuildProgress> {
    // A local build lives in the process that started it: after a restart there is nothing to follow.
    return Promise.resolve({ state: "failed", reason: `the local build ${ref.id} stopped with the Gantry process that ran it; ask for the image again to rebuild it` });
  }
}
