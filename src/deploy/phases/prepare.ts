import type { Weights } from "../api.ts";
import type { Deployment } from "../deployment-state.ts";
import { undrivableReason } from "../drivable.ts";
import { liveAndIdle, moveTo, rollBack, stayIn, type TickContext, type Transition } from "../tick-context.ts";

/** The colour taking (most of) the traffic now is the serving one; a deployment never trusts memory for it. */
export function servingColour(weights: Weights): "blue" | "green" {
  return weights.green > weights.blue ? "green" : "blue";
}

/**
 * Two ticks, each safe to repeat: first a task definition revision running the pinned image digest
 * (persisted before use), then the idle service pointed at it with the serving service's task count.
 */
export async function prepare(deployment: Deployment, context: TickContext): Promise<Transition> {
  const { fleet, router } = context.targets;
  let { state } = deployment;
  const imageUri = state.imageUri;
  if (imageUri === null) throw new Error("the deployment has no image pinned yet; it must be built first");
  // A cooling deployment may be scaling down the very colour this one is about to scale up.
  if (!(await context.takeOverOldColours(deployment))) return stayIn(deployment, context, context.timing.pollMs);

  if (!state.liveColour) {
    const weights = await router.getWeights();
    state = { ...state, liveColour: servingColour(weights), weights };
  }
  const { live, idle } = liveAndIdle(state);
  const [serving, standby] = await Promise.all([fleet.describe(live), fleet.describe(idle)]);
  // Checked again here: the services may have changed since /deploy was accepted.
  const undrivable = undrivableReason(live, serving) ?? undrivableReason(idle, standby);
  if (undrivable) return rollBack(deployment, context, "failed", undrivable);
  if (!state.idleTaskDefinitionArn) {
    if (standby.image === imageUri) {
      state = { ...state, idleTaskDefinitionArn: standby.taskDefinitionArn };
    } else {
      const arn = await fleet.registerRevision(serving.taskDefinitionArn, imageUri, await context.guard());
      return stayIn(deployment, context, 0, { ...state, idleTaskDefinitionArn: arn });
    }
  }
  const desiredCount = Math.max(serving.desiredCount, 1);
  if (standby.taskDefinitionArn !== state.idleTaskDefinitionArn || standby.desiredCount !== desiredCount) {
    await fleet.update(idle, { taskDefinitionArn: state.idleTaskDefinitionArn!, desiredCount }, await context.guard());
  }
  return moveTo({ ...deployment, state }, context, "warming", {}, context.timing.pollMs);
}
