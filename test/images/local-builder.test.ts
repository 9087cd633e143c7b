// The local builder with a stand-in `docker` on PATH (this machine has no container tool): what it
// runs, in which directory, and how it fails; and the message when no tool is there at all.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BuildInput, BuildProgress } from "../../src/images/image-builder.ts";
import { BuildRefused } from "../../src/images/image-builder.ts";
import { LocalBuilder } from "../../src/images/local-builder.ts";
import { tarGz } from "../world/github/tar.ts";

const SHA = "3f786850e387550fdab836ed7e6dc881de23001b";
const REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const input = (dockerfile = "Dockerfile"): BuildInput => ({ id: `build-${Math.random()}`, owner: "acme", repo: "web", installationId: 9, sha: SHA, ecrRepository: "web", dockerfile, context: "." });
const tarball = async () => tarGz(`acme-web-${SHA.slice(0, 7)}`, new Map([["Dockerfile", Buffer.from("FROM node:24-slim\n")], ["app/server.js", Buffer.from("// app\n")]]));
const registryLogin = async () => ({ registry: REGISTRY, username: "AWS", password: "s3cret-token" });

/** A `docker` that writes what it was asked, and where, to a log; a Dockerfile path with "fail" fails its build. */
function fakeDocker(): { path: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), "fake-docker-"));
  const log = join(dir, "calls.log");
  const script = [
    "#!/bin/sh",
    `echo "$@" >> ${log}`,
    `if [ "$1" = login ]; then cat >> ${log}; echo >> ${log}; fi`,
    `if [ "$1" = build ]; then ls >> ${log}; fi`,
    'case "$*" in *fail*) echo "Step 2/2 : RUN false ... returned a non-zero code: 1" >&2; exit 1;; esac',
  ].join("\n");
  writeFileSync(join(dir, "docker"), `${script}\n`);
  chmodSync(join(dir, "docker"), 0o755);
  return { path: dir, log };
}

async function ended(builder: LocalBuilder, id: string): Promise<BuildProgress> {
  for (let i = 0; i < 400; i += 1) {
    const progress = await builder.progress({ builder: "local", id, logsUrl: null });
    if (progress.state !== "running") return progress;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("the local build did not end");
}

describe("LocalBuilder", () => {
  it("says plainly that this machine has no docker, podman or buildah, and what to do", async () => {
    const builder = new LocalBuilder({ tarball, registryLogin, path: mkdtempSync(join(tmpdir(), "no-tools-")) });
    const refused = builder.start(input());
    await expect(refused).rejects.toBeInstanceOf(BuildRefused);
    await expect(refused).rejects.toThrow(
      `GANTRY_IMAGE_BUILDER is local, but this machine has no docker, podman or buildah on its PATH to build web:${SHA}: install one, or set GANTRY_IMAGE_BUILDER=codebuild`,
    );
  });

  it("unpacks the commit, logs in to ECR with the token on stdin, builds the Dockerfile and pushes <repository>:<sha>", async () => {
    const docker = fakeDocker();
    const builder = new LocalBuilder({ tarball, registryLogin, path: docker.path });
    const build = input();
    expect(await builder.start(build)).toEqual({ builder: "local", id: build.id, logsUrl: null });
    expect(await ended(builder, build.id)).toEqual({ state: "succeeded" });
    expect(readFileSync(docker.log, "utf8").split("\n")).toEqual([
      `login --username AWS --password-stdin ${REGISTRY}`,
      "s3cret-token",
      `build --file Dockerfile --tag ${REGISTRY}/web:${SHA} --label org.opencontainers.image.revision=${SHA} --build-arg GANTRY_SHA=${SHA} .`,
      "Dockerfile",
      "app",
      `push ${REGISTRY}/web:${SHA}`,
      "",
    ]);
  });

  it("3 a.m.: a failed build gives the tool's own last words; after a restart there is nothing to follow", async () => {
    const docker = fakeDocker();
    const builder = new LocalBuilder({ tarball, registryLogin, path: docker.path });
    const build = input("fail/Dockerfile");
    await builder.start(build);
    const progress = await ended(builder, build.id);
    expect(progress).toEqual({ state: "failed", reason: "docker: build exited with 1: Step 2/2 : RUN false ... returned a non-zero code: 1" });
    const restarted = new LocalBuilder({ tarball, registryLogin, path: docker.path });
    expect(await restarted.progress({ builder: "local", id: build.id, logsUrl: null })).toMatchObject({ state: "failed", reason: expect.stringContaining("stopped with the Gantry process") });
  });

  it("3 a.m.: a tool that exits without reading the token fails the build with its own words, and Gantry stays up", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fake-docker-"));
    writeFileSync(join(dir, "docker"), '#!/bin/sh\necho "Error: credentials store unavailable" >&2\nexit 1\n');
    chmodSync(join(dir, "docker"), 0o755);
    // A token larger than the pipe holds: writing it to a tool that has exited fails with EPIPE.
    const bigLogin = async () => ({ registry: REGISTRY, username: "AWS", password: "x".repeat(1 << 20) });
    const builder = new LocalBuilder({ tarball, registryLogin: bigLogin, path: dir });
    const build = input();
    await builder.start(build);
    expect(await ended(builder, build.id)).toEqual({ state: "failed", reason: "docker: login exited with 1: Error: credentials store unavailable" });
  });
});
