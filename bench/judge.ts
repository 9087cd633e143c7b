// The judge's false-rollback and detection rates over simulated canary steps, beside the naive rule
// "canary 5xx rate > 2× control" applied to each window. Seeded: the same figures every run.
import { judge, type AnalysisSettings } from "../src/analysis/judge.ts";
import { accumulate, mulberry32, simulateWindow, type StepScenario } from "../test/support/simulate-traffic.ts";
import type { WindowSample } from "../src/deploy/api.ts";

const TRAFFIC_RPS = [0.5, 5, 50, 500];
const BASELINES = [0.001, 0.005, 0.01, 0.02];
const REGRESSIONS = [1, 1.5, 2, 3, 5, 10];
const TRIALS = Number(process.env.BENCH_JUDGE_TRIALS ?? 200);
const WINDOWS = 5;
const CANARY_WEIGHT = 0.1;
const WINDOW_SECONDS = 60;
const SETTINGS: AnalysisSettings = { interval: WINDOW_SECONDS * 1000, minRequests: 200, maxErrorRatio: 1.5, maxP99Ratio: 1.5, minP99Increase: 50, maxExtensions: 3 };

interface Outcome {
  decision: "pass" | "fail" | "inconclusive";
  /** Window (1-based) of the decision; WINDOWS when the step ended undecided. */
  windows: number;
}

interface Cell {
  rps: number;
  baseline: number;
  regression: number;
  judge: Outcome[];
  naive: Outcome[];
}

const EMPTY: WindowSample = { requests: 0, errors: 0, p99Ms: null };
const rate = (s: WindowSample) => (s.requests === 0 ? 0 : s.errors / s.requests);

function runTrial(scenario: StepScenario, seed: number): { judge: Outcome; naive: Outcome } {
  const random = mulberry32(seed);
  let canary = EMPTY;
  let control = EMPTY;
  let judged: Outcome | null = null;
  let naive: Outcome | null = null;
  for (let w = 1; w <= WINDOWS && (judged === null || naive === null); w++) {
    const window = simulateWindow(random, scenario);
    canary = accumulate(canary, window.canary);
    control = accumulate(control, window.control);
    if (judged === null) {
      const { decision } = judge({ canary, control, settings: SETTINGS, step: 0, windowStart: 0, windowEnd: w * WINDOW_SECONDS * 1000 });
      if (decision !== "inconclusive") judged = { decision, windows: w };
    }
    // The naive rule watches each window on its own and passes when the bake ends without a trigger.
    if (naive === null && rate(window.canary) > 2 * rate(window.control)) naive = { decision: "fail", windows: w };
  }
  return {
    judge: judged ?? { decision: "inconclusive", windows: WINDOWS },
    naive: naive ?? { decision: "pass", windows: WINDOWS },
  };
}

function simulateGrid(): Cell[] {
  const cells: Cell[] = [];
  for (const rps of TRAFFIC_RPS) {
    for (const baseline of BASELINES) {
      for (const regression of REGRESSIONS) {
        const scenario = { rps, canaryWeight: CANARY_WEIGHT, windowSeconds: WINDOW_SECONDS, baselineRate: baseline, regression };
        const cell: Cell = { rps, baseline, regression, judge: [], naive: [] };
        for (let trial = 0; trial < TRIALS; trial++) {
          const outcome = runTrial(scenario, (cells.length + 1) * 100_003 + trial);
          cell.judge.push(outcome.judge);
          cell.naive.push(outcome.naive);
        }
        cells.push(cell);
      }
    }
  }
  return cells;
}

const share = (outcomes: Outcome[], decision: Outcome["decision"]) =>
  outcomes.length === 0 ? 0 : outcomes.filter((o) => o.decision === decision).length / outcomes.length;
const pct = (value: number) => `${(100 * value).toFixed(value > 0 && value < 0.01 ? 1 : 0)}%`;
const meanWindows = (outcomes: Outcome[]) => {
  const decided = outcomes.filter((o) => o.decision !== "inconclusive");
  return decided.length === 0 ? "–" : (decided.reduce((sum, o) => sum + o.windows, 0) / decided.length).toFixed(1);
};
const pooled = (cells: Cell[], who: "judge" | "naive") => cells.flatMap((c) => c[who]);
const nullCells = (cells: Cell[]) => cells.filter((c) => c.regression === 1);
const regressedCells = (cells: Cell[]) => cells.filter((c) => c.regression >= 2);

export function benchJudge(): void {
  const cells = simulateGrid();

  console.log(
    `\nJudge vs naive rule (canary 5xx > 2× control, per window): canary weight ${pct(CANARY_WEIGHT)}, ${WINDOW_SECONDS} s windows, ` +
      `up to ${WINDOWS} cumulative windows, minRequests ${SETTINGS.minRequests}, maxErrorRatio ${SETTINGS.maxErrorRatio}, ${TRIALS} seeded trials per cell.` +
      `\nfalse rollback = fail at 1×; detection = fail at ≥ 2×; inconclusive = judge undecided after ${WINDOWS} windows; windows = mean windows to a decision (naive passes at the end of the bake).`,
  );
  const rows = [];
  for (const rps of TRAFFIC_RPS) {
    for (const baseline of BASELINES) {
      const group = cells.filter((c) => c.rps === rps && c.baseline === baseline);
      rows.push({
        rps,
        baseline: pct(baseline),
        "judge false rollback": pct(share(pooled(nullCells(group), "judge"), "fail")),
        "naive false rollback": pct(share(pooled(nullCells(group), "naive"), "fail")),
        "judge detection": pct(share(pooled(regressedCells(group), "judge"), "fail")),
        "naive detection": pct(share(pooled(regressedCells(group), "naive"), "fail")),
        "judge inconclusive": pct(share(pooled(group, "judge"), "inconclusive")),
        "judge windows": meanWindows(pooled(group, "judge")),
        "naive windows": meanWindows(pooled(group, "naive")),
      });
    }
  }
  console.table(rows);

  console.log("Fail rate by regression, judge / naive (pooled over baselines):");
  console.table(
    TRAFFIC_RPS.map((rps) =>
      Object.fromEntries([
        ["rps", rps],
        ...REGRESSIONS.map((regression) => {
          const group = cells.filter((c) => c.rps === rps && c.regression === regression);
          return [`${regression}×`, `${pct(share(pooled(group, "judge"), "fail"))} / ${pct(share(pooled(group, "naive"), "fail"))}`];
        }),
      ]),
    ),
  );

  const rates = (group: Cell[]) =>
    `false rollbacks judge ${pct(share(pooled(nullCells(group), "judge"), "fail"))} vs naive ${pct(share(pooled(nullCells(group), "naive"), "fail"))}, ` +
    `detection of ≥ 2× judge ${pct(share(pooled(regressedCells(group), "judge"), "fail"))} vs naive ${pct(share(pooled(regressedCells(group), "naive"), "fail"))}`;
  const busy = cells.filter((c) => c.rps * CANARY_WEIGHT * WINDOW_SECONDS >= SETTINGS.minRequests);
  console.log(
    `Summary: all cells: ${rates(cells)}, judge inconclusive ${pct(share(pooled(cells, "judge"), "inconclusive"))}; ` +
      `where one window reaches minRequests (≥ ${Math.min(...busy.map((c) => c.rps))} rps): ${rates(busy)}.`,
  );
}
