import type { Logger } from "probot";
import { deploymentViewSchema, type DeploymentView } from "../deploy/api.ts";
import { imageBuildViewSchema, type ImageBuildView } from "../images/build-store.ts";
import { ClaimLoop } from "../store/claim-loop.ts";
import { z } from "zod";
import { commandChangeSchema, type CommandChange } from "./command-writes.ts";
import { decideRetry, limitedUntil } from "./github-retry.ts";
import { PacedError, type InstallationPacer } from "./installation-pacer.ts";
import type { ClaimedSubject, GitHubOutbox } from "./outbox-store.ts";

export interface OutboxDrainOptions {
  outbox: GitHubOutbox;
  /** Brings GitHub up to date with a deployment's changes, oldest first (merged: see GitHubNotifier). */
  sendDeployment: (changes: DeploymentView[]) => Promise<void>;
  /** Sends a command's reactions and reply; `retried` when an earlier attempt may have reached GitHub. */
  sendCommand: (changes: CommandChange[], retried: boolean) => Promise<void>;
  /** Brings a test run's check runs up to date with the store (src/ci/check-run-sync.ts). */
  sendCiRun?: (runId: string) => Promise<void>;
  /** Sends a Slack subject's changes (raw JSON, parsed by the Slack module); absent while Slack is off. */
  sendSlack?: (subject: string, changes: unknown[]) => Promise<void>;
  /** Brings a build's `gantry/image` check run up to date; absent where no images are built. */
  sendImage?: (changes: ImageBuildView[]) => Promise<void>;
  /** The count of writes per installation against GitHub's limits that paces the senders' Octokit; without it nothing is passed over for pacing. */
  pacer?: InstallationPacer;
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
 * Sends the outbox to GitHub, apart from the controller's ticks and the inbox. A subject's changes
 * pending at the claim go out together, merged; they are deleted only once GitHub took them, so a
 * crash or an error sends them again (after the lease, or a backoff). When GitHub says to wait (a
 * secondary limit's Retry-After, a spent primary limit), the whole installation waits that long on
 * every replica, and then everything held is sent: nothing is dropped for a limit.
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
    claim: async () => outbox.claimNext(options.instanceId, leaseMs, (await options.pacer?.waiting()) ?? []),
    async handle(claim) {
      const context = { subject: claim.key, changes: claim.changes.length, attempt: claim.attempts };
      let send: () => Promise<void>;
      try {
        send = sender(options, claim);
      } catch (error) {
        log.error({ ...context, err: error }, "github-outbox: dropping changes that do not parse");
        await outbox.complete(claim);
        return;
      }
      try {
        await send();
        await outbox.complete(claim);
      } catch (error) {
        if (error instanceof PacedError) {
          // Our own pacing, not GitHub's refusal: what was sent stays sent (ids are stored); the rest waits its turn.
          await outbox.retry(claim, error.until, error.message);
          return;
        }
        const limited = limitedUntil(error, now());
        if (limited !== undefined) {
          log.warn({ ...context, installation: claim.installationId, until: limited }, "github-outbox: GitHub asked this installation to wait; holding its writes");
          await outbox.blockInstallation(claim.installationId, limited, error instanceof Error ? error.message : String(error));
        }
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

/** A test run changed: its check runs are synced from the store, so the change carries only its id. */
const ciRunChangeSchema = z.object({ runId: z.string() });

/** Parses the claimed changes (throws when they do not) and returns the send for their kind. */
function sender(options: OutboxDrainOptions, claim: ClaimedSubject): () => Promise<void> {
  const parsed = claim.changes.map((payload) => JSON.parse(payload) as unknown);
  if (claim.kind === "slack") {
    const { sendSlack } = options;
    if (!sendSlack) throw new Error("Slack is off: its messages cannot be sent");
    return () => sendSlack(claim.key, parsed);
  }
  if (claim.kind === "command") {
    const changes = parsed.map((change) => commandChangeSchema.parse(change));
    return () => options.sendCommand(changes, claim.attempts > 1);
  }
  if (claim.kind === "ci-run") {
    const runIds = new Set(parsed.map((change) => ciRunChangeSchema.parse(change).runId));
    return async () => {
      for (const runId of runIds) await options.sendCiRun?.(runId);
    };
  }
  if (claim.kind === "image") {
    const changes = parsed.map((change) => imageBuildViewSchema.parse(change));
    return () => options.sendImage?.(changes) ?? Promise.resolve();
  }
  const views = parsed.map((view) => deploymentViewSchema.parse(view));
  return () => options.sendDeployment(views);
}
