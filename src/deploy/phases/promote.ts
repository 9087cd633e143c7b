import type { Deployment } from "../deployment-state.ts";
import { ensureWeights, liveAndIdle, moveTo, stayIn, weightsOn, type TickContext, type Transition } from "../tick-context.ts";
import { analyse } from "./analyse.ts";

/** All traffic to the new colour; the watch then judges it against the old colour's history. */
export async function promote(deployment: Deployment, context: TickContext): Promise<Transition> {
  const weights = weightsOn(liveAndIdle(deployment.state).idle, 100);
  await ensureWeights(context, weights);
  return moveTo(deployment, context, "watching", { weights, stepStartedAt: context.now(), extensions: 0, pausedFrom: null, reason: null });
}

/** The post-promotion watch: the new colour alone, each window judged against the old colour's window as far before promotion. */
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
