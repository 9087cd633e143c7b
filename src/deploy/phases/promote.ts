import type { Deployment } from "../deployment-state.ts";
import { ensureWeights, liveAndIdle, moveTo, stayIn, weightsOn, type TickContext, type Transition } from "../tick-context.ts";
import { analyse } from "./analyse.ts";

/**
 * All traffic to the new colour. The serving colour's figures just before the switch become the
 * control for the post-promotion watch, since afterwards it receives nothing to compare with.
 */
export async function promote(deployment: Deployment, context: TickContext): Promise<Transition> {
  const { state } = deployment;
  const { live, idle } = liveAndIdle(state);
  const now = context.now();
  const baseline =
    state.baseline ??
    (await context.targets.metrics.sample(state.environment.targetGroups[live], { start: now - state.environment.analysis.interval, end: now }));
  const weights = weightsOn(idle, 100);
  await ensureWeights(context, weights);
  return moveTo(deployment, context, "watching", { baseline, weights, stepStartedAt: context.now(), extensions: 0, pausedFrom: null, reason: null });
}

/** The post-promotion watch: the new colour alone, judged against the pre-promotion baseline. */
export async function watch(deployment: Deployment, context: TickContext): Promise<Transition> {
  if (deployment.state.stepStartedAt === null) return stayIn(deployment, context, 0, { stepStartedAt: context.now() });
  return analyse(deployment, context, { bakeMs: watchLength(deployment), pausedFrom: "watching", onPass: (judged) => startCooling(judged, context) });
}

export function startCooling(deployment: Deployment, context: TickContext): Transition {
  return moveTo(deployment, context, "cooling", { pausedFrom: null, reason: null }, deployment.state.environment.keepWarm);
}

function watchLength(deployment: Deployment): number {
  const { environment, fastPath } = deployment.state;
  const { strategy, postPromotionWatch } = environment;
  if (fastPath) return postPromotionWatch;
  const bake = strategy.type === "canary" ? strategy.steps.at(-1)!.bake : strategy.bake;
  return Math.max(bake, postPromotionWatch);
}
