// The judge over simulated whole deployments of the README's example strategy, beside the judge Gantry
// had before (cumulative target 5xx per step, a Bayesian posterior re-tested at every look) on the same
// seeded data. Writes the figures the judge is held to into bench-results.json.
import type { WindowSample } from "../src/deploy/api.ts";
import { drawDeployment, judgeDeployment, README_STRATEGY, type DeploymentOutcome, type PhaseData } from "../test/support/simulate-deployment.ts";
import { mulberry32 } from "../test/support/simulate-traffic.ts";
import { oldJudge, type WindowSample as OldSample } from "./baseline/judge.ts";
import { benchExposure } from "./judge-exposure.ts";
import { oracleLooks } from "./judge-oracle.ts";
import { DEFAULT_SETTINGS } from "./judge-settings.ts";
import { recordBenchResults } from "./results.ts";

const TRIALS = Number(process.env.BENCH_JUDGE_TRIALS ?? 1000);
/** The old judge's posterior quadrature is slow: it sees the first of each cell's deployments only. */
const OLD_TRIALS = Math.min(TRIALS, 200);
const RPS = [5, 20, 50, 200, 1000];
const BASELINES = [0.001, 0.01, 0.03];
const WINDOW_SECONDS = 60;

const OLD_SETTINGS = { minRequests: 200, maxErrorRatio: 1.5, maxP99Ratio: 1.5, minP99Increase: 50 };
const OLD_MAX_EXTENSIONS = 3;

const old = (s: WindowSample): OldSample => ({ requests: s.requests, errors: s.target5xx, p99Ms: s.p99Ms });
const add = (a: OldSample, b: OldSample): OldSample => ({ requests: a.requests + b.requests, errors: a.errors + b.errors, p99Ms: b.p99Ms ?? a.p99Ms });

/** The old judge on the same data: cumulative per step, the watch against one minute before promotion. */
function oldJudgeDeployment(phases: PhaseData[]): DeploymentOutcome {
  let looks = 0;
  let lastControl: OldSample = { requests: 0, errors: 0, p99Ms: null };
  for (const phase of phases) {
    const baseline = phase.canaryWeight === null ? lastControl : null;
    let canary: OldSample = { requests: 0, errors: 0, p99Ms: null };
    let control: OldSample = { requests: 0, errors: 0, p99Ms: null };
    let passed = false;
    for (const [k, window] of phase.windows.entries()) {
      looks++;
      canary = add(canary, old(window.canary));
      control = add(control, old(window.control));
      if (baseline === null) lastControl = old(window.control);
      const { decision } = oldJudge({ canary, control: baseline ?? control, settings: OLD_SETTINGS });
      if (decision === "fail") return { result: "rolled-back", looks, verdict: null };
      if (k + 1 < phase.bakeLooks) continue;
      if (decision === "pass") {
        passed = true;
        break;
      }
      if (k + 1 - phase.bakeLooks >= OLD_MAX_EXTENSIONS) break;
    }
    if (!passed) return { result: "paused", looks, verdict: null };
  }
  return { result: "succeeded", looks, verdict: null };
}

interface Tally {
  trials: number;
  rolledBack: number;
  paused: number;
  /** Looks to a rollback, per trial (Infinity when none). */
  rollbackLooks: number[];
}

function run(rps: number, baselineRate: number, regression: number, trials: number, seed: number): { judge: Tally; old: Tally } {
  const tally = (): Tally => ({ trials: 0, rolledBack: 0, paused: 0, rollbackLooks: [] });
  const result = { judge: tally(), old: tally() };
  for (let trial = 0; trial < trials; trial++) {
    const phases = drawDeployment(mulberry32(seed * 1_000_003 + trial), { rps, baselineRate, regression, windowSeconds: WINDOW_SECONDS }, README_STRATEGY);
    const judged: ["judge" | "old", DeploymentOutcome][] = [["judge", judgeDeployment(phases, DEFAULT_SETTINGS)]];
    if (trial < OLD_TRIALS) judged.push(["old", oldJudgeDeployment(phases)]);
    for (const [who, outcome] of judged) {
      const t = result[who];
      t.trials++;
      if (outcome.result === "rolled-back") t.rolledBack++;
      if (outcome.result === "paused") t.paused++;
      t.rollbackLooks.push(outcome.result === "rolled-back" ? outcome.looks : Infinity);
    }
  }
  return result;
}

const pct = (value: number) => `${(100 * value).toFixed(value > 0 && value < 0.1 ? 2 : 1)}%`;
const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
const within = (t: Tally, looks: number) => t.rollbackLooks.filter((l) => l <= looks).length / t.trials;
const rolledBack = (t: Tally) => t.rolledBack / t.trials;
const paused = (t: Tally) => t.paused / t.trials;

export function benchJudge(): void {
  console.log(
    `\nJudge vs the old judge on simulated healthy deployments (5% 5 min → 25% 10 min → 100%, 15 min watch, 1-min looks, ` +
      `default settings: false-rollback budget ${pct(DEFAULT_SETTINGS.falseRollbackBudget)}), ${TRIALS} seeded deployments per cell (the old judge: the first ${OLD_TRIALS}):`,
  );
  const rows = [];
  let falseRollbackMax = 0;
  let pausedMaxAt20rps = 0;
  let seed = 1;
  for (const rps of RPS) {
    for (const baselineRate of BASELINES) {
      const { judge, old } = run(rps, baselineRate, 1, TRIALS, seed++);
      falseRollbackMax = Math.max(falseRollbackMax, rolledBack(judge));
      if (rps >= 20) pausedMaxAt20rps = Math.max(pausedMaxAt20rps, paused(judge));
      rows.push({
        rps,
        "baseline errors": pct(baselineRate),
        "rolled back: judge": pct(rolledBack(judge)),
        "old judge": pct(rolledBack(old)),
        "paused: judge": pct(paused(judge)),
        "old judge ": pct(paused(old)),
      });
    }
  }
  console.table(rows);

  const detectTrials = Math.max(OLD_TRIALS, TRIALS / 4);
  const detect = (baselineRate: number, regression: number) => run(50, baselineRate, regression, detectTrials, seed++);
  const tenfold = detect(0.01, 10);
  const tenfoldRare = detect(0.001, 10);
  const threefold = detect(0.01, 3);
  const detect10xWithin2LooksAt50rps = within(tenfold.judge, 2);
  const oracle = oracleLooks({ rps: 50, baselineRate: 0.01, regression: 3, settings: DEFAULT_SETTINGS });
  const detect3xLooksVsOracle = median(threefold.judge.rollbackLooks) / oracle;
  console.log(
    `Detection at 50 rps (${detectTrials} deployments each): 10× within 2 looks at 1% baseline errors: judge ${pct(detect10xWithin2LooksAt50rps)}, old judge ${pct(within(tenfold.old, 2))}; ` +
      `at 0.1%: judge ${pct(within(tenfoldRare.judge, 2))}, old judge ${pct(within(tenfoldRare.old, 2))}.\n` +
      `3× at 1%: median looks to rollback judge ${median(threefold.judge.rollbackLooks)}, old judge ${median(threefold.old.rollbackLooks)}; ` +
      `best fixed-sample test at the same false-alarm rate needs ${oracle} looks (ratio ${detect3xLooksVsOracle.toFixed(2)}).`,
  );

  const exposure = benchExposure();
  const figures = {
    "judge.falseRollbackMax": falseRollbackMax,
    "judge.pausedMaxAt20rps": pausedMaxAt20rps,
    "judge.detect10xWithin2LooksAt50rps": detect10xWithin2LooksAt50rps,
    "judge.detect3xLooksVsOracle": Number(detect3xLooksVsOracle.toFixed(3)),
    "judge.lbFailureExposureMaxS": exposure,
  };
  console.log("Judge figures:", figures);
  recordBenchResults(figures);
}
