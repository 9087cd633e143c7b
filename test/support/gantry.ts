import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApplicationFunction } from "probot";
import { appCredentials, parseServerEnv } from "../../src/config/server-env.ts";
import { startGantry, type GantryOptions, type RunningGantry } from "../../src/gantry.ts";
import { silentLog, TEST_APP_ID, TEST_PRIVATE_KEY, TEST_WEBHOOK_SECRET, TestOctokit } from "./probot.ts";

/** The environment a test Gantry runs with: loopback, a random port, its own data directory. */
export function testEnv(overrides: Record<string, string> = {}) {
  return {
    APP_ID: String(TEST_APP_ID),
    PRIVATE_KEY: TEST_PRIVATE_KEY,
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    HOST: "127.0.0.1",
    PORT: "0",
    GANTRY_DATA_DIR: mkdtempSync(join(tmpdir(), "gantry-data-")),
    ...overrides,
  };
}

/** An app that takes `issue_comment` and does nothing with it: its deliveries are stored, not ignored. */
export const storingApp: ApplicationFunction = (app) => app.on("issue_comment", async () => {});

export async function startTestGantry(
  app: ApplicationFunction | undefined,
  envOverrides: Record<string, string> = {},
  options: Partial<GantryOptions> = {},
): Promise<RunningGantry> {
  const env = parseServerEnv(testEnv(envOverrides));
  return startGantry({ env, credentials: appCredentials(env)!, ...(app ? { app } : {}), log: silentLog, Octokit: TestOctokit, ...options });
}
