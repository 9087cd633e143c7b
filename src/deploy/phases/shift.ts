import type { Deployment } from "../deployment-state.ts";
import { ensureWeights, liveAndIdle, moveTo, stayIn, weightsOn, type TickContext, type Transition } from "../tick-context.ts";
import { analyse } from "./analyse.ts";

/** One canary step: set the weights in one call and verify them, then bake and judge. */
export async function shift(deployment: Deployment, context: TickContext): Promise<Transition> {
  const { strategy } = deployment.state.environment;
  if (strategy.type !== "canary") return moveTo(deployment, context, "promoting");
  const step = strategy.steps[deployment.state.step];
  if (!step || step.weight === 100) return moveTo(deployment, context, "promoting");

  if (deployment.state.stepStartedAt === null) {
    const weights = weightsOn(liveAndIdle(deployment.state).idle, step.weight);
    await ensureWeights(context, weights);
    return stayIn(deployment, context, 0, { weights, stepStartedAt: context.now(), extensions: 0 });
  }
  return analyse(deployment, context, { bakeMs: step.bake, pausedFrom: "shifting", onPass: (judged) => nextStep(judged, context) });
}

export function nextStep(deployment: Deployment, context: TickContext): Transition {
  return moveTo(deployment, context, "shifting", { step: deployment.state.step + 1, stepStartedAt: null, extensions: 0, pausedFrom: null, reason: null });
}
