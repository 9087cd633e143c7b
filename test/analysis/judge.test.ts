import { describe, expect, it } from "vitest";
import { judge, startJudging, type AnalysisSettings, type Look } from "../../src/analysis/judge.ts";
import type { JudgeState } from "../../src/analysis/judge-state.ts";
import { verdictSchema, type WindowSample } from "../../src/deploy/api.ts";
import { OFFLINE_ENVIRONMENT } from "../support/deployment-fixture.ts";
import { drawDeployment, judgeDeployment, README_STRATEGY } from "../support/simulate-deployment.ts";
import { mulberry32 } from "../support/simulate-traffic.ts";

/** The defaults a repository gets. */
const settings: AnalysisSettings = OFFLINE_ENVIRONMENT.analysis;

const healthy = (requests: number, target5xx = 0, p99Ms = 120): WindowSample => ({
  requests,
  responses: requests,
  target5xx,
  connectionErrors: 0,
  healthyHosts: 2,
  loadBalancer5xx: 0,
  p50Ms: requests ? 40 : null,
  p99Ms: requests ? p99Ms : null,
});
const silent: WindowSample = { ...healthy(0), healthyHosts: 2 };

/** Looks of one step at `weight`, returning every verdict until the first fail. */
function looks(windows: { canary: WindowSample; control: WindowSample }[], canaryWeight: number | null, overrides: Partial<AnalysisSettings> = {}, from: JudgeState | null = null) {
  const s = { ...settings, ...overrides };
  let state = startJudging(from, 0, s);
  const verdicts = [];
  for (const [i, window] of windows.entries()) {
    const look: Look = { ...window, canaryWeight, step: 0, windowStart: i, windowEnd: i + 1 };
    const judged = judge(state, look, s);
    state = judged.state;
    verdicts.push(judged.verdict);
    if (judged.verdict.decision === "fail") break;
  }
  return { verdicts, state, last: verdicts.at(-1)! };
}

describe("judge: failures the load balancer sees", () => {
  it("fails a canary whose tasks refuse connections at the first look: 502s count though no target answered 5xx", () => {
    const refused: WindowSample = { ...silent, requests: 5, connectionErrors: 5, loadBalancer5xx: 5 };
    const { verdicts, last } = looks([{ canary: refused, control: healthy(95, 1) }], 0.05);
    expect(verdicts).toHaveLength(1);
    expect(last).toMatchObject({ decision: "fail", canary: { requests: 5, errors: 5 }, control: { requests: 95, errors: 1 } });
    expect(last.reason).toMatch(/^canary failed 100\.0% \(5\/5\) vs control 1\.1% \(1\/95\); evidence .* \(fails at 270\)$/);
  });

  it("counts requests that got no answer (504 after the idle timeout) as failures, beside target 5xx", () => {
    const timedOut: WindowSample = { ...healthy(100, 2), responses: 90, loadBalancer5xx: 8 };
    const { last } = looks([{ canary: timedOut, control: healthy(1900, 19) }], 0.05);
    expect(last.canary).toEqual({ requests: 100, errors: 12, p99Ms: 120 });
  });

  it("charges the balancer's own 5xx that no target group recorded to the canary (an empty target group)", () => {
    const empty: WindowSample = { ...silent, healthyHosts: null, loadBalancer5xx: 6 };
    const { verdicts, last } = looks([{ canary: empty, control: healthy(95) }], 0.05);
    expect(verdicts).toHaveLength(1);
    expect(last).toMatchObject({ decision: "fail", canary: { requests: 6, errors: 6 } });
  });

  it("does not charge the balancer's 5xx to the canary twice when its target group recorded them", () => {
    const refusedOnce: WindowSample = { ...healthy(200), responses: 199, connectionErrors: 1, loadBalancer5xx: 2 };
    const controlReset: WindowSample = { ...healthy(3800, 38), responses: 3799 };
    const { last } = looks([{ canary: refusedOnce, control: controlReset }], 0.05);
    expect(last.canary.errors).toBe(1);
    expect(last.control.errors).toBe(39);
  });

  it("fails a canary with no healthy target while the control serves, at once", () => {
    const { verdicts, last } = looks([{ canary: { ...silent, healthyHosts: 0 }, control: healthy(95) }], 0.05);
    expect(verdicts).toHaveLength(1);
    expect(last.decision).toBe("fail");
    expect(last.reason).toMatch(/^canary target group has no healthy target while control serves/);
  });

  it("fails a canary whose requests hang (nothing recorded) within two 2 s looks at 50 rps, not at the first", () => {
    const { verdicts, last } = looks(
      [
        { canary: silent, control: healthy(95, 1) },
        { canary: silent, control: healthy(96, 1) },
      ],
      0.05,
    );
    expect(verdicts.map((v) => v.decision)).toEqual(["inconclusive", "fail"]);
    expect(last.reason).toMatch(/^canary holds 5% of traffic but its targets answered 0 requests in the last window, where its weight sends about 5: requests hang, are refused or find no target/);
  });

  it("fails a canary that answers, but slowly, against the control's latency, once two answers say so", () => {
    // Control's p99 is 120 ms: beyond 180 ms (1.5×) is slow, beyond 4 × 180 ms severely slow.
    const slow = (answers: number, p50Ms = 400) => ({ canary: { ...healthy(answers), p50Ms, p99Ms: p50Ms + 20 }, control: healthy(95) });
    const { verdicts, last } = looks([slow(1), slow(1), slow(4)], 0.05);
    expect(verdicts.map((v) => v.decision)).toEqual(["inconclusive", "fail"]);
    expect(last.reason).toMatch(/^canary is slow: 2 of its 2 answers this step came in windows whose median exceeded control's p99/);
    // A second late (1 s against 120 ms) is clear from its first answer: one look, not two.
    const severely = looks([slow(1, 1000), slow(1, 1000)], 0.05);
    expect(severely.verdicts.map((v) => v.decision)).toEqual(["fail"]);
    expect(severely.last.reason).toMatch(/^canary is slow: 1 of its 1 answers/);
    // One such answer after several fast ones is not a slow canary.
    const late = looks([{ canary: healthy(3), control: healthy(95) }, slow(1, 1000)], 0.05);
    expect(late.verdicts.map((v) => v.decision)).not.toContain("fail");
    // Slower within the tolerance (1.5× or +50 ms of control's p99) is not slow.
    const within = looks(Array.from({ length: 5 }, () => ({ canary: { ...healthy(5), p50Ms: 170 }, control: healthy(95) })), 0.05);
    expect(within.verdicts.map((v) => v.decision)).not.toContain("fail");
    // One slow window after many fast answers is not a slow canary.
    const once = looks([...Array.from({ length: 3 }, () => ({ canary: healthy(5), control: healthy(95) })), slow(2)], 0.05);
    expect(once.verdicts.map((v) => v.decision)).not.toContain("fail");
  });
});

describe("judge: tolerance and evidence", () => {
  it("passes a healthy canary once it has answered minRequests, and says it is within tolerance", () => {
    const { verdicts, last } = looks(
      [
        { canary: healthy(60, 1), control: healthy(1140, 11) },
        { canary: healthy(60, 0), control: healthy(1140, 12) },
      ],
      0.05,
    );
    expect(verdicts.map((v) => v.decision)).toEqual(["inconclusive", "pass"]);
    expect(verdicts[0]!.reason).toMatch(/^only 59 canary requests answered so far \(need 100\)/);
    expect(last.reason).toMatch(/within tolerance \(1\.5× control, \+0\.10%\)$/);
    expect(last.evidence).toBeLessThan(1);
  });

  it("does not pass a canary that looks worse than tolerated, though not yet conclusively: it looks longer", () => {
    const leaning = looks([{ canary: healthy(120, 2), control: healthy(2280, 0) }], 0.05);
    expect(leaning.last.decision).toBe("inconclusive");
    expect(leaning.last.reason).toMatch(/worse than tolerated so far, not yet conclusive$/);
    const next = looks([{ canary: healthy(120, 2), control: healthy(2280, 0) }, { canary: healthy(60, 2), control: healthy(1140, 0) }], 0.05);
    expect(next.last.decision).toBe("fail");
  });

  it("does not roll back for an excess within the absolute tolerance, which the relative test alone would", () => {
    // 4 failures in 4000 canary requests against none in 76,000: strong relative evidence, 0.1 points of excess.
    const window = { canary: healthy(4000, 4), control: healthy(76_000, 0) };
    expect(looks([window], 0.05).last.decision).toBe("pass");
    expect(looks([window], 0.05, { maxErrorIncrease: 0 }).last.decision).toBe("fail");
  });

  it("keeps evidence across steps: a small excess in the first step and the second adds up to one rollback", () => {
    const step = (canaryWeight: number) => Array.from({ length: 5 }, () => ({ canary: healthy(Math.round(3000 * canaryWeight), Math.round(3000 * canaryWeight * 0.025)), control: healthy(Math.round(3000 * (1 - canaryWeight)), Math.round(3000 * (1 - canaryWeight) * 0.01)) }));
    const first = looks(step(0.05), 0.05);
    expect(first.last.decision).not.toBe("fail");
    const fresh = looks(step(0.25), 0.25);
    const carried = looks(step(0.25), 0.25, {}, first.state);
    expect(carried.verdicts.length).toBeLessThan(fresh.verdicts.length);
    expect(carried.last.decision).toBe("fail");
  });

  it("in the watch, weighs the new colour against the old colour's history by their requests, and fails a silent new colour", () => {
    const worse = looks([{ canary: healthy(3000, 150), control: healthy(2250, 22) }], null);
    expect(worse.last.decision).toBe("fail");
    const same = looks([{ canary: healthy(3000, 30), control: healthy(2250, 22) }], null);
    expect(same.last.decision).toBe("pass");
    const gone = looks([{ canary: silent, control: healthy(2250, 22) }], null);
    expect(gone.last.reason).toBe("the new colour recorded no request while the old one served 2250 over the same time before promotion");
  });

  it("gives verdicts a stored deployment can read back, and reads verdicts stored before these fields", () => {
    const { last } = looks([{ canary: healthy(100, 1), control: healthy(1900, 19) }], 0.05);
    expect(verdictSchema.parse(JSON.parse(JSON.stringify(last)))).toEqual(last);
    const older = { decision: "pass", reason: "r", canary: { requests: 1, errors: 0, p99Ms: null }, control: { requests: 1, errors: 0, p99Ms: null }, ratioInterval: null, probabilityWorse: 0.1, step: 0, windowStart: 0, windowEnd: 1 };
    expect(verdictSchema.parse(older).evidence).toBeNull();
  });
});

describe("judge over whole simulated deployments (5% → 25% → 100% with a watch, 1-min looks)", () => {
  const outcomes = (rps: number, baselineRate: number, regression: number, trials: number, overrides: Partial<AnalysisSettings> = {}) =>
    Array.from({ length: trials }, (_, i) =>
      judgeDeployment(drawDeployment(mulberry32(1000 + i), { rps, baselineRate, regression, windowSeconds: 60 }, README_STRATEGY), { ...settings, ...overrides }).result,
    );
  const share = (results: string[], result: string) => results.filter((r) => r === result).length / results.length;

  it("rolls back at most the budget of versions exactly at the tolerated ratio, over all 30+ looks", () => {
    // At the null's edge (1.5× the old failure rate, no absolute tolerance) with a 5% budget so the rate is measurable.
    const results = outcomes(50, 0.01, 1.5, 600, { falseRollbackBudget: 0.05, maxErrorIncrease: 0 });
    expect(share(results, "rolled-back")).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / 600));
  });

  it("takes a healthy version at 20 rps to success without pausing, and at 5 rps pauses rarely", () => {
    expect(share(outcomes(20, 0.01, 1, 200), "succeeded")).toBe(1);
    expect(share(outcomes(5, 0.01, 1, 200), "paused")).toBeLessThanOrEqual(0.1);
  });

  it("rolls back a 10× regression at 50 rps and 1% errors within two looks", () => {
    const rollbacks = Array.from({ length: 200 }, (_, i) => judgeDeployment(drawDeployment(mulberry32(5000 + i), { rps: 50, baselineRate: 0.01, regression: 10, windowSeconds: 60 }, README_STRATEGY), settings));
    expect(rollbacks.filter((o) => o.result === "rolled-back" && o.looks <= 2).length / rollbacks.length).toBeGreaterThanOrEqual(0.99);
  });

  it("draws the same deployments for the same seed", () => {
    const draw = () => drawDeployment(mulberry32(7), { rps: 50, baselineRate: 0.01, regression: 1, windowSeconds: 60 }, README_STRATEGY);
    expect(draw()).toEqual(draw());
  });
});
