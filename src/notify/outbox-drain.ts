import type { Logger } from "probot";
import { deploymentViewSchema, type DeploymentView } from "../deploy/api.ts";
import { ClaimLoop } from "../store/claim-loop.ts";
import { decideRetry } from "./github-retry.ts";
import type { ClaimedSubject, GitHubOutbox } from "./outbox-store.ts";

export interface OutboxDrainOptions {
  outbox: GitHubOutbox;
  /** Brings GitHub up to date with a deployment's changes, oldest first (merged: see GitHubNotifier). */
  sendDeployment: (changes: DeploymentView[]) => Promise<void>;
  log: Logger;
  /** Names this replica in leases. */
  instanceId: string;
  concurrency?: number;
  /** A claimed subject is this replica's for this long: longer than a drain of it takes. */
  leaseMs?: number;
  pollMs?: number;
  now?: () => number;
}

/**
 * Sends the outbox to GitHub, apart from the controller's ticks. A subject's changes pending at the
 * claim go out together, merged; they are deleted only once GitHub took them, so a crash or an error
 * sends them again (after the lease, or a backoff / GitHub's Retry-After).
 */
export function outboxDrain(options: OutboxDrainOptions): ClaimLoop<ClaimedSubject> {
  const { outbox, log } = options;
  const leaseMs = options.leaseMs ?? 120_000;
  const now = options.now ?? Date.now;
  return new ClaimLoop({
    name: "github-outbox",
    log,
    concurrency: options.concurrency ?? 4,
    pollMs: options.pollMs ?? 500,
    claim: () => outbox.claimNext(options.instanceId, leaseMs),
    async handle(claim) {
      const context = { subject: claim.key, changes: claim.changes.length, attempt: claim.attempts };
      let changes: DeploymentView[];
      try {
        changes = claim.changes.map((payload) => deploymentViewSchema.parse(JSON.parse(payload)));
      } catch (error) {
        log.error({ ...context, err: error }, "github-outbox: dropping changes that do not parse");
        await outbox.complete(claim);
        return;
      }
      try {
        await options.sendDeployment(changes);
        await outbox.complete(claim);
      } catch (error) {
        const decision = decideRetry(error, claim.attempts, now());
        if ("drop" in decision) {
          log.error({ ...context, err: error }, `github-outbox: dropping writes GitHub will never accept (${decision.drop})`);
          await outbox.complete(claim);
          return;
        }
        log.warn({ ...context, err: error, retryAt: decision.retryAt }, "github-outbox: GitHub writes failed; will retry");
        await outbox.retry(claim, decision.retryAt, error instanceof Error ? error.message : String(error));
      }
    },
  });
}
