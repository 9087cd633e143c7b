import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ShardJob } from "../shard-report.ts";
import { runCommand } from "./run-tests.ts";

/** The cache key: the install command and every lockfile's bytes; another lockfile is another key. */
function cacheKey(job: ShardJob, cwd: string): string {
  const hash = createHash("sha256").update(job.install ?? "");
  for (const lockfile of job.lockfiles) {
    const path = join(cwd, lockfile);
    hash.update(`\0${lockfile}\0`).update(existsSync(path) ? readFileSync(path) : "");
  }
  return hash.digest("hex").slice(0, 32);
}

/**
 * Installs the dependencies once per lockfile hash: a hit copies the cached paths into the working
 * copy, a miss runs `install` and stores them (under a temporary name, renamed whole, so a shard
 * never sees half a cache). Without a cache directory it just installs.
 */
export async function installDependencies(job: ShardJob, cwd: string, cacheDir: string | undefined): Promise<{ exitCode: number; cached: boolean }> {
  if (!job.install) return { exitCode: 0, cached: false };
  const entry = cacheDir ? join(cacheDir, cacheKey(job, cwd)) : undefined;
  if (entry && existsSync(entry)) {
    for (const path of job.cachePaths) if (existsSync(join(entry, path))) cpSync(join(entry, path), join(cwd, path), { recursive: true });
    console.log(`dependencies from the cache (${entry.split("/").at(-1)})`);
    return { exitCode: 0, cached: true };
  }
  const exitCode = await runCommand(job.install, [], cwd);
  if (exitCode !== 0 || !entry) return { exitCode, cached: false };
  const partial = `${entry}.${process.pid}.partial`;
  mkdirSync(partial, { recursive: true });
  for (const path of job.cachePaths) if (existsSync(join(cwd, path))) cpSync(join(cwd, path), join(partial, path), { recursive: true });
  try {
    renameSync(partial, entry);
  } catch {
    rmSync(partial, { recursive: true, force: true }); // another shard stored the same key first
  }
  return { exitCode, cached: false };
}
