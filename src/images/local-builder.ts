// ImageBuilder on this machine: docker, podman or buildah when one is on the PATH. The commit's
// tarball is unpacked into a fresh directory, built with the Dockerfile named by the config, and
// pushed to ECR after a login with an ECR token. Without a tool, every build fails at once with a
// message saying what to install, or to use CodeBuild instead.
import { execFile, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { BuildRefused, type BuildInput, type BuildProgress, type BuildRef, type ImageBuilder } from "./image-builder.ts";

const run = promisify(execFile);
const TOOLS = ["docker", "podman", "buildah"] as const;
type Tool = (typeof TOOLS)[number];
/** The end of a failed command's output kept for the reason shown on GitHub. */
const REASON_TAIL = 600;

/** The first container build tool on PATH, or undefined. */
export function findBuildTool(path = process.env.PATH ?? ""): { tool: Tool; file: string } | undefined {
  for (const tool of TOOLS) {
    for (const dir of path.split(delimiter).filter(Boolean)) {
      const file = join(dir, tool);
      try {
        accessSync(file, constants.X_OK);
        return { tool, file };
      } catch {
        // not in this directory
      }
    }
  }
  return undefined;
}

export interface LocalBuilderOptions {
  /** The commit's gzipped tarball, read from GitHub with the installation's token. */
  tarball: (input: BuildInput) => Promise<Buffer>;
  /** An ECR login for the push (GetAuthorizationToken): the registry's host, user and password. */
  registryLogin: () => Promise<{ registry: string; username: string; password: string }>;
  /** Where to look for the tools; default the server's PATH. */
  path?: string;
}

export class LocalBuilder implements ImageBuilder {
  readonly #options: LocalBuilderOptions;
  /** Builds this process runs: a local build lives and dies with it. */
  readonly #builds = new Map<string, BuildProgress>();

  constructor(options: LocalBuilderOptions) {
    this.#options = options;
  }

  start(input: BuildInput): Promise<BuildRef> {
    const found = findBuildTool(this.#options.path);
    if (!found) {
      return Promise.reject(
        new BuildRefused(
          `GANTRY_IMAGE_BUILDER is local, but this machine has no docker, podman or buildah on its PATH to build ${input.ecrRepository}:${input.sha}: install one, or set GANTRY_IMAGE_BUILDER=codebuild`,
        ),
      );
    }
    if (!this.#builds.has(input.id)) {
      this.#builds.set(input.id, { state: "running" });
      void this.#build(found, input).then(
        () => this.#builds.set(input.id, { state: "succeeded" }),
        (error: unknown) => this.#builds.set(input.id, { state: "failed", reason: `${found.tool}: ${(error as Error).message}` }),
      );
    }
    return Promise.resolve({ builder: "local", id: input.id, logsUrl: null });
  }

  progress(ref: BuildRef): Promise<BuildProgress> {
    // After a restart there is nothing to follow: the next request builds again.
    return Promise.resolve(
      this.#builds.get(ref.id) ?? { state: "failed", reason: `the local build ${ref.id} stopped with the Gantry process that ran it; ask for the image again to rebuild it` },
    );
  }

  async #build(found: { tool: Tool; file: string }, input: BuildInput): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), "gantry-build-"));
    try {
      const archive = join(dir, "source.tar.gz");
      const source = join(dir, "source");
      await writeFile(archive, await this.#options.tarball(input));
      await run("mkdir", [source]);
      // GitHub's tarball has one top directory; GNU tar refuses members with ".." or absolute names.
      await run("tar", ["-xzf", archive, "--strip-components=1", "-C", source]);
      const login = await this.#options.registryLogin();
      const image = `${login.registry}/${input.ecrRepository}:${input.sha}`;
      await command(found.file, ["login", "--username", login.username, "--password-stdin", login.registry], source, login.password);
      await command(
        found.file,
        [found.tool === "buildah" ? "bud" : "build", "--file", input.dockerfile, "--tag", image, "--label", `org.opencontainers.image.revision=${input.sha}`, "--build-arg", `GANTRY_SHA=${input.sha}`, input.context],
        source,
      );
      await command(found.file, ["push", image], source);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** Runs a tool without a shell; rejects with the end of its output when it fails. */
function command(file: string, args: string[], cwd: string, stdin?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-REASON_TAIL);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${args[0]} exited with ${code}: ${output.trim()}`))));
    // A tool that exits before reading its input closes the pipe (EPIPE): its exit code and output say why.
    child.stdin.on("error", () => {});
    child.stdin.end(stdin ?? "");
  });
}
