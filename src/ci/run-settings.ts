import { z } from "zod";
import type { CiConfig } from "../config/repo-config.ts";
import type { ShardJob } from "./shard-report.ts";

/** What a run keeps of the commit's `ci:` settings, so a re-run runs as the first run did. */
const runSettingsSchema = z.object({
  command: z.string(),
  junit: z.string(),
  install: z.string().optional(),
  lockfiles: z.array(z.string()),
  cachePaths: z.array(z.string()),
  retries: z.number().int().min(0),
  timeoutMs: z.number().int().positive(),
  quarantineAfter: z.number().int().positive().optional(),
});
export type RunSettings = z.infer<typeof runSettingsSchema>;

export function runSettings(ci: CiConfig): RunSettings {
  return {
    command: ci.command,
    junit: ci.junit,
    ...(ci.install === undefined ? {} : { install: ci.install }),
    lockfiles: ci.lockfiles,
    cachePaths: ci.cachePaths,
    retries: ci.retries,
    timeoutMs: ci.timeout,
    ...(ci.quarantineAfter === undefined ? {} : { quarantineAfter: ci.quarantineAfter }),
  };
}

export function parseRunSettings(json: string): RunSettings {
  return runSettingsSchema.parse(JSON.parse(json));
}

export function shardJob(settings: RunSettings, files: string[]): ShardJob {
  const { command, junit, install, lockfiles, cachePaths, retries } = settings;
  return { command, junit, files, lockfiles, cachePaths, retries, ...(install === undefined ? {} : { install }) };
}
