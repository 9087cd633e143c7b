import type { Verdict, WindowSample } from "../api.ts";
import type { Deployment } from "../deployment-state.ts";
import { liveAndIdle, moveTo, rollBack, stayIn, type TickContext, type Transition } from "../tick-context.ts";

/** Verdicts kept per deployment: enough for the PR comment and the dashboard, bounded for the row. */
const MAX_VERDICTS = 50;

/**
 * One analysis window of a bake: judge the idle colour (canary) against the control over everything
 * since the step began, so evidence accumulates. Fail rolls back at once; at the end of the bake a
 * pass moves on, and an inconclusive verdict extends the bake up to `maxExtensions`, then pauses.
 */
export async function analyse(
  deployment: Deployment,
  context: TickContext,
  options: { bakeMs: number; pausedFrom: "shifting" | "watching"; onPass: (deployment: Deployment) => Transition },
): Promise<Transition> {
  const { state } = deployment;
  const { analysis, targetGroups } = state.environment;
  const { live, idle } = liveAndIdle(state);
  const start = state.stepStartedAt!;
  const now = context.now();
  const firstWindowEnd = start + Math.min(analysis.interval, options.bakeMs);
  if (now < firstWindowEnd) return stayIn(deployment, context, firstWindowEnd - now);

  const window = { start, end: now };
  const [canary, control] = await Promise.all([
    context.targets.metrics.sample(targetGroups[idle], window),
    state.baseline ? Promise.resolve<WindowSample>(state.baseline) : context.targets.metrics.sample(targetGroups[live], window),
  ]);
  const verdict: Verdict = context.judge({ canary, control, settings: analysis, step: state.step, windowStart: start, windowEnd: now });
  const judged: Deployment = { ...deployment, state: { ...state, verdicts: [...state.verdicts, verdict].slice(-MAX_VERDICTS) } };

  if (verdict.decision === "fail") return rollBack(judged, context, "rolled-back", verdict.reason);
  const bakeEnd = start + options.bakeMs + state.extensions * analysis.interval;
  if (now < bakeEnd) return stayIn(judged, context, Math.min(analysis.interval, bakeEnd - now));
  if (verdict.decision === "pass") return options.onPass(judged);
  if (state.extensions < analysis.maxExtensions) {
    return stayIn(judged, context, analysis.interval, { extensions: state.extensions + 1 });
  }
  return moveTo(judged, context, "paused", {
    pausedFrom: options.pausedFrom,
    reason: `still inconclusive after ${state.extensions} extensions (${verdict.reason}): /promote to continue or /abort to roll back`,
  });
}
