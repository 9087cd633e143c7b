import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TERMINAL_PHASES, type DeploymentView, type RepoRef } from "../../src/deploy/api.ts";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import { randomSha } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";
import { TEST_INSTALLATION_ID } from "../support/probot.ts";
import type { Comment } from "../world/github/state.ts";
import { eventually, FULL_NAME, NAME, OWNER, startE2eWorld, type E2eWorld } from "./world.ts";

/** GitHub answers every request this much later: far longer than any rollback may take. It is sped up again once the rollback is over. */
const GITHUB_LATENCY_MS = 60_000;
const CATCH_UP_MS = 60_000;

describe("rollback time does not depend on GitHub's speed (with GitHub made slow)", () => {
  // History is looked up by name; the id only matters to AWS, which these reads skip.
  const REPO: RepoRef = { owner: OWNER, repo: NAME, id: 0, installationId: TEST_INSTALLATION_ID };
  const SHA = randomSha();
  let e: E2eWorld;

  beforeAll(async () => {
    e = await startE2eWorld();
    e.github.seedPermission(FULL_NAME, "writer", "write");
    // Half of the canary's requests fail: the judge rolls it back at its first look.
    await e.readyPullRequest(1, SHA, { version: "v3-bad", errorRate: 0.5 });
  });
  afterAll(async () => {
    e?.github.setLatency(0);
    await e?.close();
  });

  const deploymentOf = async (phases: ReadonlySet<string>): Promise<DeploymentView | undefined> =>
    (await e.gantry.controller.history(REPO)).find((deployment) => deployment.sha === SHA && phases.has(deployment.phase));

  it("an automatic rollback verifies its weights while GitHub answers nothing, and GitHub shows the truth once it catches up", async () => {
    const load = startLoad(e.world.listeners.production.url, 150);
    try {
      const { comment } = await e.comment(1, "writer", "/deploy production");
      await eventually("the deployment to start", () => deploymentOf(new Set(["preparing", "warming"])));
      // From here on GitHub answers nothing for a minute: the throttled or struggling GitHub of a busy day, at its worst.
      e.github.setLatency(GITHUB_LATENCY_MS);
      const slowFrom = Date.now();

      const ended = await eventually("the rollback to end while GitHub is slow", () => deploymentOf(TERMINAL_PHASES), GITHUB_LATENCY_MS / 2);
      expect(ended.phase, `${ended.phase}: ${ended.reason}`).toBe("rolled-back");
      expect(await e.liveWeights()).toEqual({ blue: 100, green: 0 });
      const { state } = (await new DeploymentStore(e.gantry.store).get(ended.id))!;
      expect(state.timeToRestoreMs).not.toBeNull();

      // Every GitHub request sent since GitHub turned slow was still unanswered when the weights were
      // verified: the controller never waited for GitHub. (With the notifier in the controller's path,
      // the deployment does not even get this far: each tick waits on GitHub.)
      const sentWhileSlow = e.github.answered.filter((request) => request.receivedAt >= slowFrom);
      expect(sentWhileSlow).toEqual([]);
      expect(state.decidedAt!).toBeGreaterThanOrEqual(slowFrom);

      e.github.setLatency(0);
      // GitHub catches up in its own time and then says what is true.
      const status = await eventually("the status comment to say rolled back", () =>
        botComments(1).find((candidate) => candidate.body.includes("### ↩️ Rolled back:")),
      CATCH_UP_MS);
      await eventually("👎 on the command", () => (comment.reactions.some((reaction) => reaction.content === "-1") ? true : undefined), CATCH_UP_MS);
      expect(status.body).toContain("| why it stopped |");
      const githubDeployment = () => [...e.repo.deployments.values()].find((candidate) => candidate.sha === SHA);
      await eventually("the Deployment to fail", () => (githubDeployment()?.statuses.at(-1)?.state === "failure" ? true : undefined), CATCH_UP_MS);
      const runs = [...e.repo.checkRuns.values()].filter((run) => run.headSha === SHA && run.name === "gantry/deploy production");
      expect(runs.at(-1)).toMatchObject({ status: "completed", conclusion: "failure" });

      expect(e.github.violations).toEqual([]);
    } finally {
      await load.stop();
    }
  }, 180_000);

  const botComments = (issue: number): Comment[] =>
    [...e.repo.comments.values()].filter((comment) => comment.issueNumber === issue && comment.user.type === "Bot");
});
