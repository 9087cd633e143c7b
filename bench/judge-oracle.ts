// The yardstick for detection speed: the most powerful fixed-sample test (Neyman–Pearson, knowing the
// true regression in advance) of the same null at the same false-alarm rate, on the same deployments.
// Its "looks needed" is the fewest looks after which it detects the regression half the time.
import type { AnalysisSettings } from "../src/analysis/judge.ts";
import { drawDeployment, README_STRATEGY } from "../test/support/simulate-deployment.ts";
import { mulberry32 } from "../test/support/simulate-traffic.ts";

const NULL_TRIALS = 10_000;
const ALTERNATIVE_TRIALS = 2_000;
const WINDOW_SECONDS = 60;

const shareOf = (ratio: number, share: number) => (ratio * share) / (ratio * share + 1 - share);

/** The log likelihood ratio of θ1 against θ0 after each look of one deployment's bakes. */
function statistics(seed: number, rps: number, baselineRate: number, trueRatio: number, theta0: number, theta1: number): number[] {
  const phases = drawDeployment(mulberry32(seed), { rps, baselineRate, regression: trueRatio, windowSeconds: WINDOW_SECONDS }, README_STRATEGY);
  const out: number[] = [];
  let sum = 0;
  for (const phase of phases) {
    for (const { canary, control } of phase.windows.slice(0, phase.bakeLooks)) {
      const share = phase.canaryWeight ?? canary.requests / (canary.requests + control.requests || 1);
      if (share > 0 && share < 1) {
        const q0 = shareOf(theta0, share);
        const q1 = shareOf(theta1, share);
        sum += canary.target5xx * Math.log(q1 / q0) + control.target5xx * (Math.log1p(-q1) - Math.log1p(-q0));
      }
      out.push(sum);
    }
  }
  return out;
}

export function oracleLooks(options: { rps: number; baselineRate: number; regression: number; settings: AnalysisSettings }): number {
  const { rps, baselineRate, regression, settings } = options;
  const theta0 = settings.maxErrorRatio;
  const underNull = Array.from({ length: NULL_TRIALS }, (_, i) => statistics(7_000_000 + i, rps, baselineRate, theta0, theta0, regression));
  const underAlternative = Array.from({ length: ALTERNATIVE_TRIALS }, (_, i) => statistics(9_000_000 + i, rps, baselineRate, regression, theta0, regression));
  const looks = underNull[0]!.length;
  for (let n = 0; n < looks; n++) {
    const sorted = underNull.map((s) => s[n]!).toSorted((a, b) => a - b);
    const threshold = sorted[Math.ceil((1 - settings.falseRollbackBudget) * sorted.length) - 1]!;
    const power = underAlternative.filter((s) => s[n]! > threshold).length / underAlternative.length;
    if (power >= 0.5) return n + 1;
  }
  return Infinity;
}
