import { startJudging } from "../../analysis/judge.ts";
import { alignUp, completeAt, completeUntil } from "../../analysis/windows.ts";
import type { Deployment } from "../deployment-state.ts";
import { ensureWeights, liveAndIdle, moveTo, rollBack, stayUntil, weightsOn, type TickContext, type Transition } from "../tick-context.ts";

/** Verdicts kept per deployment: enough for the PR comment and the dashboard, bounded for the row. */
const MAX_VERDICTS = 50;

/**
 * One look of a bake: judge the newest complete window of the idle colour (canary) against the serving
 * colour over the same window, or in the watch against the serving colour's history mirrored before
 * promotion (window k after promotion against window k before it: a comparable window, never one
 * minute reused). Evidence accumulates over the whole deployment. Fail rolls back at once; at the end
 * of the bake a pass moves on; too little canary traffic, or evidence leaning towards a rollback,
 * extends the bake up to `maxExtensions`. Then a leaning step moves on (the evidence carries over),
 * and too little traffic asks a person, holding the canary's weight only if it has answered requests.
 */
export async function analyse(
  deployment: Deployment,
  context: TickContext,
  options: { bakeMs: number; pausedFrom: "shifting" | "watching"; onPass: (deployment: Deployment) => Transition },
): Promise<Transition> {
  const { state } = deployment;
  const { analysis, targetGroups } = state.environment;
  const { live, idle } = liveAndIdle(state);
  const stepStart = state.stepStartedAt!;
  const origin = alignUp(stepStart, analysis);
  const previous = state.judge?.since === stepStart ? state.judge : { ...startJudging(state.judge, stepStart, analysis), judgedUntil: origin };
  const now = context.now();
  const due = previous.judgedUntil + Math.min(analysis.interval, options.bakeMs);
  const end = completeUntil(now, analysis);
  if (end < alignUp(due, analysis)) return stayUntil(deployment, context, completeAt(due, analysis));

  const watching = options.pausedFrom === "watching";
  const window = { start: previous.judgedUntil, end };
  const controlWindow = watching ? { start: 2 * origin - window.end, end: 2 * origin - window.start } : window;
  const [canary, control] = await Promise.all([
    context.targets.metrics.sample(targetGroups[idle], window),
    context.targets.metrics.sample(targetGroups[live], controlWindow),
  ]);
  const canaryWeight = watching || !state.weights ? null : state.weights[idle] / 100;
  const { verdict, state: judgement } = context.judge(previous, { canary, control, canaryWeight, step: state.step, windowStart: window.start, windowEnd: window.end }, analysis);
  const verdicts = [...state.verdicts, { ...verdict, readAt: now }].slice(-MAX_VERDICTS);
  const judged: Deployment = { ...deployment, state: { ...state, judge: judgement, verdicts } };

  if (verdict.decision === "fail") return rollBack(judged, context, "rolled-back", verdict.reason);
  const bakeEnd = origin + options.bakeMs + state.extensions * analysis.interval;
  if (end < bakeEnd) return stayUntil(judged, context, completeAt(Math.min(end + analysis.interval, bakeEnd), analysis));
  if (verdict.decision === "pass") return options.onPass(judged);
  if (state.extensions < analysis.maxExtensions) {
    return stayUntil(judged, context, completeAt(end + analysis.interval, analysis), { extensions: state.extensions + 1 });
  }
  // Enough traffic but evidence leaning towards a rollback: the step has looked longer, and the test keeps guarding the next one.
  if (judgement.served >= analysis.minRequests) return options.onPass(judged);
  const undecided = `still too little canary traffic after ${state.extensions} extensions (${verdict.reason})`;
  // In the watch the new colour has all the traffic there is: the judge has failed it already if that traffic went unanswered.
  if (judgement.served > 0 || watching) {
    return moveTo(judged, context, "paused", {
      pausedFrom: options.pausedFrom,
      reason: `${undecided}; holding the canary's weight, since it has answered ${judgement.served} requests and failed no test: /promote to continue or /abort to roll back`,
    });
  }
  // A canary that has answered nothing is unknown, not healthy: it keeps no traffic while a person decides.
  const weights = weightsOn(live, 100);
  await ensureWeights(context, weights);
  return moveTo(judged, context, "paused", {
    weights,
    pausedFrom: options.pausedFrom,
    reason: `${undecided}; took the canary's weight off, since it has answered no request: /promote to continue or /abort to end`,
  });
}
