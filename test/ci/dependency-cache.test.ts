import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { installDependencies } from "../../src/ci/runner/dependency-cache.ts";

describe("the shard runner's dependency cache", () => {
  it("installs once per lockfile hash and copies the cached paths after; another lockfile installs again", async () => {
    const cache = mkdtempSync(join(tmpdir(), "gantry-cache-"));
    const installs = join(mkdtempSync(join(tmpdir(), "gantry-installs-")), "count");
    writeFileSync(installs, "");
    const job = {
      command: "true",
      junit: "junit.xml",
      files: [],
      install: `echo x >> ${installs} && mkdir -p node_modules/dep && echo installed > node_modules/dep/index.js`,
      lockfiles: ["package-lock.json"],
      cachePaths: ["node_modules"],
      retries: 0,
    };
    const workingCopy = (lock: string) => {
      const dir = mkdtempSync(join(tmpdir(), "gantry-shard-"));
      writeFileSync(join(dir, "package-lock.json"), lock);
      return dir;
    };
    const first = workingCopy('{"lockfileVersion":3}');
    expect(await installDependencies(job, first, cache)).toEqual({ exitCode: 0, cached: false });
    const second = workingCopy('{"lockfileVersion":3}');
    expect(await installDependencies(job, second, cache)).toEqual({ exitCode: 0, cached: true });
    expect(readFileSync(join(second, "node_modules/dep/index.js"), "utf8")).toBe("installed\n");
    expect(await installDependencies(job, workingCopy('{"lockfileVersion":3,"changed":true}'), cache)).toEqual({ exitCode: 0, cached: false });
    expect(readFileSync(installs, "utf8")).toBe("x\nx\n");
  });

  it("stores nothing when the install fails, so the next shard tries again", async () => {
    const cache = mkdtempSync(join(tmpdir(), "gantry-cache-"));
    const job = { command: "true", junit: "junit.xml", files: [], install: "exit 7", lockfiles: [], cachePaths: ["node_modules"], retries: 0 };
    expect(await installDependencies(job, mkdtempSync(join(tmpdir(), "gantry-shard-")), cache)).toEqual({ exitCode: 7, cached: false });
    expect(await installDependencies(job, mkdtempSync(join(tmpdir(), "gantry-shard-")), cache)).toEqual({ exitCode: 7, cached: false });
  });
});
