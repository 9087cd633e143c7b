import type { ProbotOctokit } from "probot";
import { CommandWrites, commandChangeSchema, commandSender } from "../../src/notify/command-writes.ts";
import { limitedUntil } from "../../src/notify/github-retry.ts";
import { GitHubOutbox } from "../../src/notify/outbox-store.ts";
import type { Store } from "../../src/store/open-store.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

/**
 * The command handler's way out to GitHub, for tests that deliver comments to a Probot of their own:
 * the real outbox, and `flush`, which sends what is queued as the drain does (a failed send is tried
 * again, without waiting, up to `attempts` times; `waits` keeps how long GitHub asked the queue to wait).
 */
export function queuedCommandWrites(store: Store) {
  const outbox = new GitHubOutbox(store);
  const waits: number[] = [];
  return {
    waits,
    writes: new CommandWrites(outbox, () => {}),
    async flush(octokit: Octokit, attempts = 5): Promise<void> {
      const send = commandSender(async () => octokit);
      for (let claim = await outbox.claimNext("test", 60_000); claim; claim = await outbox.claimNext("test", 60_000)) {
        try {
          await send(claim.changes.map((payload) => commandChangeSchema.parse(JSON.parse(payload))), claim.attempts > 1);
          await outbox.complete(claim);
        } catch (error) {
          if (claim.attempts >= attempts) throw error;
          const now = Date.now();
          const until = limitedUntil(error, now);
          if (until !== undefined) waits.push(until - now);
          await outbox.retry(claim, 0, String(error));
        }
      }
    },
    pending: () => outbox.pendingCount(),
  };
}
