import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type World, startWorld, statusOf } from "./fixture.ts";

let world: World;
afterEach(async () => {
  expect(world.emu.violations).toEqual([]);
  await world.emu.close();
});

const repo = { owner: "octo", repo: "app" };

describe("GitHub emulator: contents and tarballs", () => {
  it("serves a file base64-encoded, raw on request, per ref, and a directory listing", async () => {
    world = await startWorld();
    const next = world.emu.seedCommit("octo/app", { branch: "next", files: { ".github/gantry.yml": "ci: {}\n" } });
    const { data } = await world.octokit.rest.repos.getContent({ ...repo, path: ".github/gantry.yml" });
    if (Array.isArray(data) || data.type !== "file") throw new Error("expected a file");
    expect(Buffer.from(data.content, "base64").toString()).toBe("environments:\n  production: {}\n");
    const raw = await world.octokit.rest.repos.getContent({ ...repo, path: ".github/gantry.yml", ref: next, mediaType: { format: "raw" } });
    expect(raw.data).toBe("ci: {}\n");
    const dir = await world.octokit.rest.repos.getContent({ ...repo, path: "" });
    expect(Array.isArray(dir.data) && dir.data.map((e) => [e.name, e.type])).toEqual([[".github", "dir"], ["src", "dir"]]);
    expect(await statusOf(world.octokit.rest.repos.getContent({ ...repo, path: "missing.txt" }))).toBe(404);
    expect(await statusOf(world.octokit.rest.repos.getContent({ ...repo, path: "src/index.ts", ref: next }))).toBe(404);
  });

  it("redirects a tarball request to a real .tar.gz of the commit's files", async () => {
    world = await startWorld();
    const { data, url } = await world.octokit.rest.repos.downloadTarballArchive({ ...repo, ref: "main" });
    expect(url).toContain(`/legacy.tar.gz/${world.sha}`);
    const dir = mkdtempSync(join(tmpdir(), "gh-tar-"));
    writeFileSync(join(dir, "a.tgz"), Buffer.from(data as ArrayBuffer));
    execFileSync("tar", ["-xzf", "a.tgz"], { cwd: dir });
    const top = `octo-app-${world.sha.slice(0, 7)}`;
    expect(readFileSync(join(dir, top, ".github/gantry.yml"), "utf8")).toBe("environments:\n  production: {}\n");
    expect(readFileSync(join(dir, top, "src/index.ts"), "utf8")).toBe("export {};\n");
    expect(await statusOf(world.octokit.rest.repos.downloadTarballArchive({ ...repo, ref: "nope" }))).toBe(404);
  });
});
