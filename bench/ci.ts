// Test shards: how much shorter the timing plan's longest shard is than a split by file count (what
// `vitest --shard k/n` does), and how many GitHub writes one run costs for 1, 8 and 32 shards.
import { stringify } from "yaml";
import type { Executor, ShardLaunch } from "../src/ci/executors/executor.ts";
import type { ShardReport } from "../src/ci/shard-report.ts";
import { makespan, makespanLowerBound, planShards, splitByCount, type WeighedFile } from "../src/ci/planner.ts";
import { startTestGantry } from "../test/support/gantry.ts";
import { TEST_WEBHOOK_SECRET } from "../test/support/probot.ts";
import { heavyTailedTimings, recordedTimings } from "../test/support/timing-sets.ts";
import { startGithubEmulator } from "../test/world/github/emulator.ts";
import { pushEvent } from "../test/world/github/events.ts";
import { sendSignedWebhook } from "../test/world/github/webhook.ts";
import { recordBenchResults } from "./results.ts";

function planVersusCount(name: string, files: WeighedFile[], counts: number[]): number[] {
  console.log(`\n${name} (${files.length} files, ${(files.reduce((sum, file) => sum + file.weightMs, 0) / 1000).toFixed(0)} s in all)`);
  console.log("| shards | timing plan | split by count | plan / count split | plan / lower bound |");
  console.log("|---|---|---|---|---|");
  return counts.map((count) => {
    const plan = makespan(planShards(files, count));
    const byCount = makespan(splitByCount(files, count));
    const bound = makespanLowerBound(files, count);
    console.log(`| ${count} | ${(plan / 1000).toFixed(1)} s | ${(byCount / 1000).toFixed(1)} s | ${(plan / byCount).toFixed(3)} | ${(plan / bound).toFixed(3)} |`);
    return plan / byCount;
  });
}

/** Reports every shard passed at once, through Gantry's own callback route: processes left out, writes counted whole. */
class InstantExecutor implements Executor {
  readonly name = "local";
  readonly perReplica = true;
  readonly slots = 4;
  async start(launch: ShardLaunch): Promise<string> {
    setImmediate(() => {
      const report: ShardReport = { passed: 1, skipped: 0, failures: [], flaky: [], files: [], durationMs: 5, exitCode: 0 };
      void fetch(`${launch.callbackUrl}/ci/result?shard=${launch.shardId}`, { method: "POST", headers: { authorization: `Bearer ${launch.token}`, "content-type": "application/json" }, body: JSON.stringify(report) });
    });
    return `${launch.shardId}-${launch.attempt}`;
  }
  async status() {
    return { state: "running" as const };
  }
  async cancel() {}
  async logs() {
    return "";
  }
  async close() {}
}

/** One run of `shards` shards on the GitHub emulator, 4 executor slots (saturated past 4 shards); returns its check-run writes. */
async function githubCallsPerRun(shards: number[]): Promise<Record<number, number>> {
  const github = await startGithubEmulator();
  const gantry = await startTestGantry(undefined, { GITHUB_API_URL: github.url, GANTRY_CI_CALLBACK_SECRET: "bench-callback-secret-of-32-characters!" }, { ciExecutor: new InstantExecutor(), ciWatchMs: 100 });
  const writes: Record<number, number> = {};
  try {
    for (const [i, count] of shards.entries()) {
      // An installation each, so GitHub's 80 writes a minute per installation do not hold one run behind another.
      const repo = github.seedRepo({ owner: "acme", name: `shards-${count}`, installationId: 100 + i });
      const files = Object.fromEntries(Array.from({ length: count }, (_, k) => [`test/t${k}.test.mjs`, "// a test\n"]));
      const config = stringify({ ci: { tests: "test/*.test.mjs", shards: count }, environments: {} });
      const sha = github.seedCommit(repo.fullName, { branch: "main", files: { ...files, ".github/gantry.yml": config } });
      const before = github.answered.length;
      await sendSignedWebhook({ url: `${gantry.url}/api/github/webhooks`, secret: TEST_WEBHOOK_SECRET, event: "push", payload: { ...pushEvent(github.url, repo, "main"), installation: { id: 100 + i } } });
      const deadline = Date.now() + 50_000;
      const done = () => {
        const summary = [...repo.checkRuns.values()].find((run) => run.headSha === sha && run.name === "gantry/test");
        const shardRuns = [...repo.checkRuns.values()].filter((run) => run.headSha === sha && run.name.startsWith("gantry/test ("));
        return summary?.status === "completed" && shardRuns.length === count && shardRuns.every((run) => run.status === "completed");
      };
      while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      // Let the last writes land, then count every check-run write but gantry/config's.
      await new Promise((resolve) => setTimeout(resolve, 500));
      writes[count] = github.answered.slice(before).filter((request) => request.path.includes(`/${repo.name}/check-runs`) && request.method !== "GET").length - 1;
    }
  } finally {
    await gantry.stop();
    await github.close();
  }
  return writes;
}

export async function benchCi(): Promise<void> {
  console.log("\n## Test shards");
  const own = planVersusCount("This project's recorded test timings", recordedTimings(), [2, 4, 8]);
  const heavy = planVersusCount("500 files, heavy-tailed durations", heavyTailedTimings(), [4, 8, 16, 32]);
  const calls = await githubCallsPerRun([1, 8, 32]);
  console.log("\n| shards | GitHub writes per run | budget 2n + 4 |\n|---|---|---|");
  for (const [count, made] of Object.entries(calls)) console.log(`| ${count} | ${made} | ${2 * Number(count) + 4} |`);
  recordBenchResults({
    "ci.makespanVsCountSplit.ownTests": Number(own[1]!.toFixed(3)),
    "ci.makespanVsCountSplit.heavyTailed500": Number(heavy[1]!.toFixed(3)),
    "ci.githubCallsPerRun.1": calls[1]!,
    "ci.githubCallsPerRun.8": calls[8]!,
    "ci.githubCallsPerRun.32": calls[32]!,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchCi();
  process.exit(0);
}
