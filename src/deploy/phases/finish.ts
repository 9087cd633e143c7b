import { deployedTag, environmentTag } from "../../images/registry.ts";
import { publicErrorText } from "../../notify/public-text.ts";
import type { Deployment, DeploymentState } from "../deployment-state.ts";
import { ensureWeights, LeaseLost, liveAndIdle, moveTo, rollBack, stayIn, weightsOn, type TickContext, type Transition } from "../tick-context.ts";

/**
 * Traffic back to the colour that was serving, in one verified call, then the new colour scaled to
 * zero. Records how long restoring took from the decision.
 */
export async function restore(deployment: Deployment, context: TickContext): Promise<Transition> {
  const { state } = deployment;
  const outcome = state.rollbackOutcome ?? "rolled-back";
  if (!state.liveColour) return moveTo(deployment, context, outcome);
  const { live, idle } = liveAndIdle(state);
  const weights = weightsOn(live, 100);
  let timeToRestoreMs = state.timeToRestoreMs;
  if (timeToRestoreMs === null) {
    // Every millisecond here is traffic still on the colour being left.
    await ensureWeights(context, weights, { urgent: true });
    timeToRestoreMs = context.now() - (state.decidedAt ?? context.now());
    // Persist the restore before scaling down: a crash here must not measure it again.
    return stayIn(deployment, context, 0, { weights, timeToRestoreMs });
  }
  if (state.idleTaskDefinitionArn) {
    const standby = await context.targets.fleet.describe(idle);
    if (standby.desiredCount > 0 && standby.taskDefinitionArn === state.idleTaskDefinitionArn) {
      await context.targets.fleet.update(idle, { desiredCount: 0 }, await context.guard());
    }
  }
  return moveTo(deployment, context, outcome);
}

/**
 * After the keep-warm window: scale the old colour to zero and promote the image (the environment's
 * tag moves onto it), unless a newer deployment has taken that colour over. Promoting here, once a rollback
 * in place is no longer possible, and in the same tick as the scale-down, keeps the tag on what the
 * environment runs for good; a deployment queued behind this one starts only after it.
 */
export async function cool(deployment: Deployment, context: TickContext): Promise<Transition> {
  // Held from here until the deployment ends: a deployment starting meanwhile waits to prepare.
  if (!(await context.holdOldColour(deployment))) return moveTo(deployment, context, "succeeded");
  const { live, idle } = liveAndIdle(deployment.state);
  if (!(await context.targets.router.verifyWeights(weightsOn(idle, 100)))) {
    return moveTo(deployment, context, "succeeded", { reason: `traffic no longer all on ${idle}; ${live} left running` });
  }
  const old = await context.targets.fleet.describe(live);
  if (old.desiredCount > 0) {
    await context.targets.fleet.update(live, { desiredCount: 0 }, await context.guard());
  }
  const promotion = await promote(deployment, context);
  const reason = promotion.error === null ? deployment.state.reason : `succeeded, but the image was not tagged ${promotion.tag}: ${promotion.error}`;
  return moveTo(deployment, context, "succeeded", { promotion, reason });
}

/**
 * `env-<environment>` onto the image the deployment runs, by PutImage of the same manifest: never a
 * rebuild, the digest unchanged. A refusal (a role without ecr:PutImage, a repository whose tags are
 * all immutable) does not undo a deployment that is live: it is recorded and shown.
 */
async function promote(deployment: Deployment, context: TickContext): Promise<NonNullable<DeploymentState["promotion"]>> {
  const { state } = deployment;
  const tag = environmentTag(deployment.environment);
  const digest = state.imageDigest ?? "";
  await context.guard();
  try {
    await context.targets.registry.promote(state.buildRepository, digest, tag);
    // Never moves: the lifecycle policy keeps an image ever deployed to production by it.
    await context.targets.registry.promote(state.buildRepository, digest, deployedTag(deployment.environment, deployment.sha));
    return { tag, digest, at: context.now(), error: null };
  } catch (error) {
    if (error instanceof LeaseLost) throw error;
    return { tag, digest, at: context.now(), error: publicErrorText(error) };
  }
}

/** Keeps the environment's weights as they are while a person decides (approval, or a paused judge). */
export function waitForPerson(deployment: Deployment, context: TickContext): Transition {
  return stayIn(deployment, context, context.timing.idleMs);
}


/**
 * Waits for the environment's approvals (counted by the API; the last one asks the deployment to go
 * on) until the approval timeout, then cancels it: the new colour is scaled down and the environment
 * let go. The deadline is the phase's start in the store, so a restart neither resets nor loses it.
 */
export function waitForApproval(deployment: Deployment, context: TickContext): Transition {
  const { timeout } = deployment.state.environment.approval;
  // Configs stored before the timeout existed wait as they did: until a person acts.
  if (timeout === undefined) return waitForPerson(deployment, context);
  const waited = context.now() - deployment.state.phaseStartedAt;
  if (waited >= timeout) {
    const given = deployment.approvals.length;
    const got = given === 0 ? "no approval" : `${given} of ${deployment.state.environment.approval.count ?? 1} approvals`;
    return rollBack(deployment, context, "aborted", `cancelled: ${got} within the approval timeout (${Math.round(timeout / 1000)} s)`);
  }
  return stayIn(deployment, context, Math.min(context.timing.idleMs, timeout - waited));
}
