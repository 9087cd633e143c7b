// The local world for test shards: the GitHub emulator holding a copy of the fixture project
// (test/fixtures/ci-project), and Gantry in-process running its shards on the given executor.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CiStore } from "../../src/ci/ci-store.ts";
import type { Executor } from "../../src/ci/executors/executor.ts";
import type { RunningGantry } from "../../src/gantry.ts";
import { ciProjectFiles } from "../fixtures/ci-project-files.ts";
import { startTestGantry } from "../support/gantry.ts";
import { TEST_INSTALLATION_ID, TEST_WEBHOOK_SECRET } from "../support/probot.ts";
import { checkRunEvent, checkSuiteEvent, pullRequestEvent, pushEvent } from "../world/github/events.ts";
import { startGithubEmulator, type GithubEmulator } from "../world/github/emulator.ts";
import type { CheckRun, Repo } from "../world/github/state.ts";
import { sendSignedWebhook } from "../world/github/webhook.ts";
import { eventually } from "./world.ts";

const WEBHOOK_PATH = "/api/github/webhooks";
export const CALLBACK_SECRET = "ci-world-callback-secret-of-at-least-32-chars";

/** A test that fails at line 6 of its file: the expected annotation. */
export const FAILING_STRINGS = "export const shout = (text) => text.toUpperCase();\n";
/** A test that waits until it is stopped (a shard still running when the next push comes). */
export const SLOW_TEST = 'import test from "node:test";\n\ntest("waits", async () => {\n  await new Promise((resolve) => setTimeout(resolve, 120_000));\n});\n';

/** A test that waits until stopped the first time it runs (it leaves `marker`), and passes after. */
export function slowOnce(marker: string): string {
  return `import { existsSync, writeFileSync } from "node:fs";\nimport test from "node:test";\n\ntest("slow once", async () => {\n  if (existsSync(${JSON.stringify(marker)})) return;\n  writeFileSync(${JSON.stringify(marker)}, "");\n  await new Promise((resolve) => setTimeout(resolve, 120_000));\n});\n`;
}

/** A test that fails the first time it runs (it leaves `marker`) and passes after: flaky. */
export function flakyOnce(marker: string): string {
  return `import { existsSync, writeFileSync } from "node:fs";\nimport assert from "node:assert/strict";\nimport test from "node:test";\n\ntest("sometimes", () => {\n  const ranBefore = existsSync(${JSON.stringify(marker)});\n  writeFileSync(${JSON.stringify(marker)}, "");\n  assert.ok(ranBefore, "fails on its first run");\n});\n`;
}

export interface CiWorld {
  github: GithubEmulator;
  gantry: RunningGantry;
  repo: Repo;
  store: CiStore;
  /** Commits the fixture project (with `changes`) to `branch` and sends the push; returns the sha. */
  push(branch: string, changes?: Record<string, string>): Promise<string>;
  checkRuns(sha: string): CheckRun[];
  /** The newest check run of `name` on `sha`, once it is completed. */
  completed(sha: string, name: string): Promise<CheckRun>;
  rerequest(run: CheckRun, identifier?: string): Promise<void>;
  rerequestSuite(sha: string): Promise<void>;
  /** Opens pull request `number` from `branch` (its current head) and sends `pull_request.opened`. */
  openPullRequest(number: number, branch: string): Promise<void>;
  /** Stops Gantry and starts another on the same store (a new instance id), as after a deploy or a crash. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startCiWorld(options: { executor?: Executor; env?: Record<string, string> } = {}): Promise<CiWorld> {
  const github = await startGithubEmulator();
  const repo = github.seedRepo({ owner: "acme", name: "shop", installationId: TEST_INSTALLATION_ID });
  const dataDir = mkdtempSync(join(tmpdir(), "gantry-ci-world-"));
  let instances = 0;
  const start = () =>
    startTestGantry(
      undefined,
      { GITHUB_API_URL: github.url, WEBHOOK_PATH, GANTRY_DATA_DIR: dataDir, GANTRY_INSTANCE_ID: `ci-world-${++instances}`, GANTRY_CI_CALLBACK_SECRET: CALLBACK_SECRET, GANTRY_CI_CONCURRENCY: "4", ...options.env },
      { ciWatchMs: 200, ...(options.executor ? { ciExecutor: options.executor } : {}) },
    );
  let gantry = await start();
  const deliver = async (event: string, payload: unknown) => {
    const delivery = await sendSignedWebhook({ url: `${world.gantry.url}${WEBHOOK_PATH}`, secret: TEST_WEBHOOK_SECRET, event, payload });
    if (delivery.status !== 202) throw new Error(`delivery refused: ${delivery.status} ${delivery.body}`);
  };
  let pushes = 0;
  const checkRuns = (sha: string) => [...repo.checkRuns.values()].filter((run) => run.headSha === sha && run.name.startsWith("gantry/test"));
  const world: CiWorld = {
    github,
    gantry,
    repo,
    store: new CiStore(gantry.store),
    async push(branch, changes = {}) {
      const before = repo.branches.get(branch);
      // Each push is a new commit, even with the same tree.
      const sha = github.seedCommit(repo.fullName, { branch, files: { ...ciProjectFiles(), "PUSHED.md": `push ${++pushes}\n`, ...changes } });
      await deliver("push", pushEvent(github.url, repo, branch, before));
      return sha;
    },
    checkRuns,
    completed: (sha, name) =>
      eventually(`${name} on ${sha.slice(0, 7)} to complete`, () => checkRuns(sha).filter((run) => run.name === name).toSorted((a, b) => b.id - a.id)[0], 90_000).then((run) =>
        eventually(`${name} on ${sha.slice(0, 7)} to complete`, () => {
          const newest = checkRuns(sha).filter((candidate) => candidate.name === name).toSorted((a, b) => b.id - a.id)[0] ?? run;
          return newest.status === "completed" ? newest : undefined;
        }, 90_000),
      ),
    rerequest: (run, identifier) => deliver("check_run", checkRunEvent(github.url, github.state, repo, run, identifier)),
    rerequestSuite: (sha) => deliver("check_suite", checkSuiteEvent(github.url, github.state, repo, sha)),
    async openPullRequest(number, branch) {
      github.seedPull(repo.fullName, { number, user: "author", head: { ref: branch, sha: repo.branches.get(branch)! } });
      await deliver("pull_request", pullRequestEvent(github.url, repo, number));
    },
    async restart() {
      await gantry.stop();
      gantry = await start();
      world.gantry = gantry;
      world.store = new CiStore(gantry.store);
    },
    async close() {
      await gantry.stop();
      await github.close();
    },
  };
  return world;
}
