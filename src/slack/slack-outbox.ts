import { z } from "zod";
import { deploymentViewSchema, TERMINAL_PHASES, type DeploymentObserver, type DeploymentView, type Phase } from "../deploy/api.ts";
import { PRIORITY, type GitHubOutbox, type OutboxSubject } from "../notify/outbox-store.ts";
import type { Store } from "../store/open-store.ts";

/**
 * Slack's writes share the outbox with GitHub's, in a lane of their own (installation 0: one
 * workspace, one token), so a slow or failing Slack holds up neither a deployment nor GitHub's writes,
 * and one Slack message is sent at a time, which keeps well inside Slack's per-channel limits.
 */
export const SLACK_LANE = 0;

const testFailureSchema = z.object({
  repo: z.object({ owner: z.string(), repo: z.string() }),
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  branch: z.string(),
  summary: z.string().max(3_000),
  checkRunUrl: z.string().nullable(),
});

export const slackChangeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("deployment"), view: deploymentViewSchema }),
  z.object({ kind: z.literal("test-failure"), channel: z.string().min(1), failure: testFailureSchema }),
]);
export type SlackChange = z.infer<typeof slackChangeSchema>;

/** A failing `gantry/test` on the default branch, to post once per commit to `channel`. */
export type TestFailureNotice = z.infer<typeof testFailureSchema> & { channel: string };

const TRAFFIC_MOVED: ReadonlySet<Phase> = new Set(["rolling-back", ...TERMINAL_PHASES]);

export function slackSubject(key: string): OutboxSubject {
  return { key: `slack:${key}`, installationId: SLACK_LANE, kind: "slack" };
}

export const testSubjectKey = (failure: Pick<TestFailureNotice, "repo" | "sha">): string => `test:${failure.repo.owner}/${failure.repo.repo}@${failure.sha}`;

/** Records Slack messages to send: each deployment change (when it has a channel), and failing test runs. */
export class SlackOutbox implements DeploymentObserver {
  readonly #outbox: GitHubOutbox;
  readonly #store: Store;
  readonly #wake: () => void;

  constructor(outbox: GitHubOutbox, store: Store, wake: () => void) {
    this.#outbox = outbox;
    this.#store = store;
    this.#wake = wake;
  }

  async deploymentChanged(view: DeploymentView): Promise<void> {
    if (!view.slackChannel) return;
    const change: SlackChange = { kind: "deployment", view };
    await this.#outbox.record(slackSubject(`deployment:${view.id}`), JSON.stringify(change), TRAFFIC_MOVED.has(view.phase) ? PRIORITY.trafficMoved : PRIORITY.normal);
    this.#wake();
  }

  /**
   * Posts a failing `gantry/test` of a default-branch commit to the channel, once per commit: a
   * commit already posted (or queued) is not posted again, whatever reruns report.
   */
  async postTestFailure(notice: TestFailureNotice): Promise<void> {
    const { channel, ...failure } = notice;
    const key = testSubjectKey(failure);
    const subject = slackSubject(key);
    const [posted, queued] = await Promise.all([
      this.#store.db.selectFrom("slack_messages").select("subject").where("subject", "=", subject.key).executeTakeFirst(),
      this.#store.db.selectFrom("github_outbox_changes").select("seq").where("subject", "=", subject.key).executeTakeFirst(),
    ]);
    if (posted || queued) return;
    const change: SlackChange = { kind: "test-failure", channel, failure: testFailureSchema.parse(failure) };
    await this.#outbox.record(subject, JSON.stringify(change), PRIORITY.normal);
    this.#wake();
  }
}
