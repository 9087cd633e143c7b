// GitHub writes one deployment costs: the README's example strategy (5% for 5 min → 25% for 10 min →
// 100% with a 15 min watch, one-minute looks), each change sent alone through Gantry's notifier to
// the GitHub emulator (nothing merged: the costliest case). Beside it, the same deployment with every
// look written to the status comment (progress refreshed at every change).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Probot } from "probot";
import type { DeploymentView, Phase, Verdict } from "../src/deploy/api.ts";
import { GitHubNotifier } from "../src/notify/github-notifier.ts";
import { DeploymentNotifications } from "../src/notify/notification-store.ts";
import { openStore } from "../src/store/open-store.ts";
import { REPO, randomSha } from "../test/support/deploy-world.ts";
import { silentLog, TEST_APP_ID, TEST_PRIVATE_KEY, TestOctokit } from "../test/support/probot.ts";
import { README_STRATEGY } from "../test/support/simulate-deployment.ts";
import { startGithubEmulator } from "../test/world/github/emulator.ts";
import { recordBenchResults } from "./results.ts";

const MINUTE = 60_000;

/** The views the controller reports for one deployment of the README's example, one per change. */
function exampleDeployment(id: string, sha: string): DeploymentView[] {
  const views: DeploymentView[] = [];
  let at = 1_000_000;
  const verdicts: Verdict[] = [];
  const sample = { requests: 3_000, errors: 3, p99Ms: 120 };
  const push = (phase: Phase, step: number, canary: number | null, after = 1_000) => {
    at += after;
    views.push({
      id,
      repo: REPO,
      environment: "production",
      sha,
      imageDigest: `sha256:${sha}${sha}`.slice(0, 71),
      phase,
      step,
      liveColour: "blue",
      weights: canary === null ? null : { blue: 100 - canary, green: canary },
      verdicts: [...verdicts],
      requestedBy: "octocat",
      pullRequest: 1,
      reason: null,
      timeToRestoreMs: null,
      warmUntil: null,
      createdAt: 1_000_000,
      updatedAt: at,
    });
  };
  const look = (step: number, decision: Verdict["decision"]) =>
    verdicts.push({ decision, reason: "canary 0.10% vs control 0.10%", canary: sample, control: sample, evidence: 1, step, windowStart: at, windowEnd: at + MINUTE });
  push("preparing", 0, null);
  push("warming", 0, null, 30_000);
  const canarySteps = README_STRATEGY.steps.map((shape) => ({ weight: shape.weight * 100, looks: shape.looks }));
  for (const [step, { weight, looks }] of [...canarySteps, { weight: 100, looks: README_STRATEGY.watchLooks }].entries()) {
    push(weight === 100 ? "watching" : "shifting", step, weight, 30_000);
    for (let index = 1; index <= looks; index += 1) {
      look(step, index === looks ? "pass" : "inconclusive");
      push(weight === 100 ? "watching" : "shifting", step, weight, MINUTE);
    }
  }
  push("cooling", canarySteps.length, 100);
  push("succeeded", canarySteps.length, 100, 10 * MINUTE);
  return views;
}

/** Sends each view alone through the notifier; returns the writes GitHub received. */
async function writesFor(progressRefreshMs: number | undefined): Promise<{ writes: number; changes: number }> {
  const github = await startGithubEmulator();
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), "gantry-bench-")) });
  try {
    github.seedRepo({ owner: REPO.owner, name: REPO.repo, installationId: REPO.installationId });
    const sha = randomSha();
    const probot = new Probot({ appId: TEST_APP_ID, privateKey: TEST_PRIVATE_KEY, baseUrl: github.url, log: silentLog, Octokit: TestOctokit });
    const notifications = new DeploymentNotifications(store);
    const notifier = new GitHubNotifier({ notifications, octokitFor: (id) => probot.auth(id), ...(progressRefreshMs !== undefined ? { progressRefreshMs } : {}) });
    const views = exampleDeployment("bench-deployment", sha);
    github.seedPull(`${REPO.owner}/${REPO.repo}`, { number: 1, user: "author", head: { ref: "feature", sha } });
    const comment = github.seedComment(`${REPO.owner}/${REPO.repo}`, 1, "octocat", "/deploy production");
    await notifications.linkCommand(views[0]!, { commentId: comment.id, issueNumber: 1 });
    for (const view of views) await notifier.apply([view]);
    if (github.violations.length > 0) throw new Error(`GitHub emulator: ${github.violations.join("; ")}`);
    const writes = github.answered.filter((request) => request.method !== "GET" && !request.path.endsWith("/access_tokens")).length;
    return { writes, changes: views.length };
  } finally {
    await store.close();
    await github.close();
  }
}

export async function benchGithubWrites(): Promise<void> {
  const everyLook = await writesFor(0);
  const budgeted = await writesFor(undefined);
  console.log("\nGitHub writes per deployment (the README's example strategy, one-minute looks, no change merged)");
  console.table([
    { measure: "status comment rewritten at every look (baseline)", changes: everyLook.changes, writes: everyLook.writes },
    { measure: "milestones + progress every 5 min", changes: budgeted.changes, writes: budgeted.writes },
  ]);
  recordBenchResults({ "github.writesPerDeployment": budgeted.writes });
}
