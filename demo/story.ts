// The demo's story, phase by phase. Each phase acts as a person would (open a pull request, comment)
// and waits for what they would wait for; the load generator counts users' failed requests per
// phase, and a phase marked healthy must have none. Add a phase here to show a new feature.
import type { PullRequestRequest, WorldControl } from "../test/world/control.ts";

export interface StoryContext {
  world: WorldControl;
  /** Prints a line on the timeline. */
  say(text: string): void;
  /** Opens a pull request whose image answers as `request.version`, with a green `gantry/test`, and follows it on the timeline. */
  openPullRequest(request: PullRequestRequest): Promise<number>;
  /**
   * Pushes a release to the default branch — the test project and a Dockerfile whose image answers as
   * `request.version`, no image, no test results — opens its pull request and follows it.
   */
  pushRelease(request: PullRequestRequest): Promise<number>;
  /** Waits until these check runs have completed on `pull`'s head; fails unless each succeeded. */
  untilChecks(pull: number, names: string[], timeoutMs?: number): Promise<void>;
  /** Waits for the Approve button on the Slack message about `pull`'s head and clicks it as `approver` (default writer). */
  approveInSlack(pull: number, approver?: string): Promise<void>;
  /** Records `pull`'s head for the summary: its check runs, its image's builds, and the image and approval its status comment shows. */
  recordRelease(pull: number, statusComment: string): Promise<void>;
  /** The pull request opened earlier for a version. */
  pullOf(version: string): number;
  /** Comments on a pull request as a writer; the world delivers the signed webhook to Gantry. */
  comment(pull: number, body: string): Promise<void>;
  /** Waits until the deployment's status comment on `pull` has one of these headlines; returns its body. */
  untilStatus(pull: number, headlines: string[], timeoutMs?: number): Promise<string>;
  /** Records a rollback for the summary: its time to restore, read from the status comment. */
  rollback(label: string, statusComment: string): void;
}

export interface DemoPhase {
  name: string;
  /** Users must see no failed request during this phase. */
  healthy: boolean;
  run(story: StoryContext): Promise<void>;
}

/**
 * Canary steps short enough for a demo, long enough for each verdict to see about a hundred requests;
 * production waits for one person's approval (not the requester's) before any traffic moves.
 */
export const DEMO_ENVIRONMENT = {
  strategy: { type: "canary", steps: [{ weight: 10, bake: "4s" }, { weight: 50, bake: "4s" }, { weight: 100, bake: "3s" }] },
  postPromotionWatch: "3s",
  keepWarm: "1s",
  approval: { required: true, timeout: "10m" },
};

export const story: DemoPhase[] = [
  {
    name: "v2 pushed: tests in shards, one image build, Slack approval, canary",
    healthy: true,
    async run(story) {
      await story.world.commitConfig(DEMO_ENVIRONMENT);
      const pull = await story.pushRelease({ version: "v2", title: "Release v2" });
      // Gantry tests the commit in shards and, once they pass, builds its image: before anyone deploys.
      await story.untilChecks(pull, ["gantry/test", "gantry/image"]);
      await story.comment(pull, "/deploy production");
      await story.approveInSlack(pull);
      await story.recordRelease(pull, await story.untilStatus(pull, ["✅ Deployed"]));
    },
  },
  {
    name: "v3 answers 25% of requests with 500: rolled back automatically",
    // Users meet the canary's errors until the verdict; the rollback ends them.
    healthy: false,
    async run(story) {
      const pull = await story.openPullRequest({ version: "v3", errorRate: 0.25, title: "Release v3 (with a bug)" });
      await story.comment(pull, "/deploy production");
      await story.approveInSlack(pull);
      story.rollback("automatic rollback of v3", await story.untilStatus(pull, ["↩️ Rolled back:", "❌ Failed:"]));
    },
  },
  {
    name: "/deploy production: v4, the old colour kept warm",
    healthy: true,
    async run(story) {
      // Config is read at each command: this deployment keeps v2 warm long enough to roll back to.
      await story.world.commitConfig({ ...DEMO_ENVIRONMENT, keepWarm: "120s" });
      const pull = await story.openPullRequest({ version: "v4", title: "Release v4" });
      await story.comment(pull, "/deploy production");
      await story.approveInSlack(pull);
      await story.untilStatus(pull, ["✅ Live:"]);
    },
  },
  {
    name: "/rollback production: traffic back to v2",
    healthy: true,
    async run(story) {
      const pull = story.pullOf("v4");
      await story.comment(pull, "/rollback production");
      story.rollback("/rollback of v4", await story.untilStatus(pull, ["↩️ Rolled back:"]));
    },
  },
];
