// Seeded whole deployments for the judge's tests and benchmark: canary steps, then the watch at 100%
// judged against the old colour's mirrored history, with bakes extended like the controller does.
import { judge, startJudging, type AnalysisSettings } from "../../src/analysis/judge.ts";
import type { JudgeState } from "../../src/analysis/judge-state.ts";
import type { Verdict, WindowSample } from "../../src/deploy/api.ts";
import { answered, binomial, poisson, type Random } from "./simulate-traffic.ts";

export interface DeploymentScenario {
  rps: number;
  /** Old colour's failure rate. */
  baselineRate: number;
  /** New colour's failure rate as a multiple of the old one's. */
  regression: number;
  windowSeconds: number;
}

export interface StrategyShape {
  /** Canary steps below 100%: weight 0..1 and looks in the bake. */
  steps: { weight: number; looks: number }[];
  watchLooks: number;
  maxExtensions: number;
}

/** The README's example: 5% for 5 min → 25% for 10 min → 100% with a 15 min watch, one-minute looks. */
export const README_STRATEGY: StrategyShape = { steps: [{ weight: 0.05, looks: 5 }, { weight: 0.25, looks: 10 }], watchLooks: 15, maxExtensions: 3 };

export interface PhaseData {
  /** The canary's weight; null for the watch. */
  canaryWeight: number | null;
  bakeLooks: number;
  windows: { canary: WindowSample; control: WindowSample }[];
}

/** Every window a deployment may judge (bakes plus extensions), drawn once so that several judges see the same data. */
export function drawDeployment(random: Random, scenario: DeploymentScenario, strategy: StrategyShape): PhaseData[] {
  const perWindow = scenario.rps * scenario.windowSeconds;
  const canaryRate = scenario.baselineRate * scenario.regression;
  const phases: PhaseData[] = strategy.steps.map(({ weight, looks }) => ({
    canaryWeight: weight,
    bakeLooks: looks,
    windows: Array.from({ length: looks + strategy.maxExtensions }, () => {
      const total = poisson(random, perWindow);
      const canary = binomial(random, total, weight);
      return { canary: answered(random, canary, canaryRate), control: answered(random, total - canary, scenario.baselineRate) };
    }),
  }));
  // The watch: window k after promotion against the old colour's window k before it, when it held the last steps' share.
  const history = strategy.steps.flatMap(({ weight, looks }) => Array.from<number>({ length: looks }).fill(1 - weight)).reverse();
  phases.push({
    canaryWeight: null,
    bakeLooks: strategy.watchLooks,
    windows: Array.from({ length: strategy.watchLooks + strategy.maxExtensions }, (_, k) => ({
      canary: answered(random, poisson(random, perWindow), canaryRate),
      control: answered(random, poisson(random, perWindow * (history[k] ?? 1)), scenario.baselineRate),
    })),
  });
  return phases;
}

export interface DeploymentOutcome {
  result: "rolled-back" | "paused" | "succeeded";
  /** Looks taken until the result (1-based). */
  looks: number;
  verdict: Verdict | null;
}

/** The new judge over one drawn deployment, ending and extending bakes as `analyse` does. */
export function judgeDeployment(phases: PhaseData[], settings: AnalysisSettings): DeploymentOutcome {
  let state: JudgeState | null = null;
  let looks = 0;
  let last: Verdict | null = null;
  for (const [index, phase] of phases.entries()) {
    let current = startJudging(state, index, settings);
    let passed = false;
    for (const [k, window] of phase.windows.entries()) {
      looks++;
      const judged = judge(current, { ...window, canaryWeight: phase.canaryWeight, step: index, windowStart: k, windowEnd: k + 1 }, settings);
      current = judged.state;
      last = judged.verdict;
      if (last.decision === "fail") return { result: "rolled-back", looks, verdict: last };
      if (k + 1 < phase.bakeLooks) continue;
      if (last.decision === "pass") {
        passed = true;
        break;
      }
    }
    // After the extensions, a step with enough canary traffic moves on, as `analyse` does; too little pauses.
    if (!passed && current.served < settings.minRequests) return { result: "paused", looks, verdict: last };
    state = current;
  }
  return { result: "succeeded", looks, verdict: last };
}
