import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { judge, type AnalysisSettings } from "../../src/analysis/judge.ts";
import { accumulate, mulberry32, simulateWindow, type StepScenario } from "../support/simulate-traffic.ts";
import { verdictSchema, type Verdict, type WindowSample } from "../../src/deploy/api.ts";

const settings: AnalysisSettings = { interval: 60_000, minRequests: 200, maxErrorRatio: 1.5, maxP99Ratio: 1.5, minP99Increase: 50, maxExtensions: 3 };
const sample = (requests: number, errors: number, p99Ms: number | null = 120): WindowSample => ({ requests, errors, p99Ms });
const verdictOf = (canary: WindowSample, control: WindowSample, overrides: Partial<AnalysisSettings> = {}) =>
  judge({ canary, control, settings: { ...settings, ...overrides }, step: 1, windowStart: 0, windowEnd: 60_000 });

/** Decisions over a canary step's cumulative windows, one per seed, stopping at the first pass or fail. */
function simulate(scenario: Omit<StepScenario, "windowSeconds">, windows: number, seeds: number): Verdict["decision"][] {
  const decisions: Verdict["decision"][] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const random = mulberry32(seed);
    let canary = sample(0, 0, null);
    let control = sample(0, 0, null);
    let decision: Verdict["decision"] = "inconclusive";
    for (let w = 0; w < windows && decision === "inconclusive"; w++) {
      const window = simulateWindow(random, { ...scenario, windowSeconds: 60 });
      canary = accumulate(canary, window.canary);
      control = accumulate(control, window.control);
      decision = verdictOf(canary, control).decision;
    }
    decisions.push(decision);
  }
  return decisions;
}
const fraction = (decisions: Verdict["decision"][], decision: Verdict["decision"]) =>
  decisions.filter((d) => d === decision).length / decisions.length;

describe("judge: error rates", () => {
  it.each([
    { name: "healthy canary, 50 rps at 25%", canary: sample(750, 7), control: sample(2250, 22) },
    { name: "identical rates", canary: sample(1000, 10), control: sample(3000, 30) },
    { name: "no errors on either side", canary: sample(200, 0), control: sample(1800, 0) },
    { name: "1 error in 10k against an error-free control", canary: sample(10_000, 1), control: sample(30_000, 0) },
    { name: "canary better than control", canary: sample(500, 1), control: sample(1500, 30) },
  ])("passes with enough traffic: $name", ({ canary, control }) => {
    expect(verdictOf(canary, control).decision).toBe("pass");
  });

  it.each([
    { name: "10% vs 0.5% at 25% weight", canary: sample(750, 75), control: sample(2250, 11) },
    { name: "10% vs 0.5% at 5% weight, below the floor", canary: sample(150, 15), control: sample(2850, 14) },
    { name: "10/10 errors against a 0.1% control", canary: sample(10, 10), control: sample(2000, 2) },
    { name: "3× on 500 rps", canary: sample(3000, 90), control: sample(27_000, 270) },
  ])("fails on clear regressions: $name", ({ canary, control }) => {
    expect(verdictOf(canary, control).decision).toBe("fail");
  });

  it.each([
    { name: "1 error in 30 against 0.5%", canary: sample(30, 1), control: sample(2000, 10) },
    { name: "1 stray error in 300 against an error-free control", canary: sample(300, 1), control: sample(2700, 0) },
    { name: "3/3 errors: too few requests even for overwhelming evidence", canary: sample(3, 3), control: sample(9, 0) },
    { name: "1.8× on 800 requests: above the bound, not conclusive", canary: sample(800, 14), control: sample(2400, 24) },
  ])("is inconclusive on weak evidence: $name", ({ canary, control }) => {
    expect(verdictOf(canary, control).decision).toBe("inconclusive");
  });

  it("fails a canary at 10% 5xx in the first window and says why, with figures", () => {
    const verdict = verdictOf(sample(500, 49), sample(2000, 8));
    expect(verdict).toMatchObject({ decision: "fail", step: 1, canary: sample(500, 49), control: sample(2000, 8) });
    expect(verdict.reason).toBe("canary 5xx 9.8% (49/500) vs control 0.40% (8/2000); P(worse than 1.5× control) = 1.00");
    const [lo, hi] = verdict.ratioInterval!;
    expect(lo).toBeLessThan(49 / 500 / (8 / 2000));
    expect(hi).toBeGreaterThan(49 / 500 / (8 / 2000));
    expect(lo).toBeGreaterThan(1.5);
  });

  it("never passes below minRequests, however clean the canary", () => {
    const verdict = verdictOf(sample(199, 0), sample(5000, 50));
    expect(verdict.decision).toBe("inconclusive");
    expect(verdict.reason).toMatch(/^only 199 canary requests \(need 200\)/);
  });

  it.each([
    { name: "no canary requests", canary: sample(0, 0, null), control: sample(900, 9), reason: /no canary requests/ },
    { name: "no control requests", canary: sample(900, 9), control: sample(0, 0, null), reason: /no control requests/ },
    { name: "no requests at all", canary: sample(0, 0, null), control: sample(0, 0, null), reason: /no canary requests/ },
  ])("is inconclusive without traffic to compare: $name", ({ canary, control, reason }) => {
    const verdict = verdictOf(canary, control);
    expect(verdict).toMatchObject({ decision: "inconclusive", probabilityWorse: null, ratioInterval: null });
    expect(verdict.reason).toMatch(reason);
  });

  it("takes 5xx counts above request counts (separate metrics) as all requests failing", () => {
    const verdict = verdictOf(sample(300, 310), sample(900, 1));
    expect(verdict).toMatchObject({ decision: "fail", canary: sample(300, 300) });
  });
});

describe("judge: latency", () => {
  it.each([
    { name: "p99 above the absolute bound", canary: sample(1000, 0, 900), control: sample(3000, 0, 850), maxP99Latency: 800, decision: "fail" },
    { name: "p99 above 1.5× control", canary: sample(1000, 0, 400), control: sample(3000, 0, 200), decision: "fail" },
    { name: "p99 within both bounds", canary: sample(1000, 0, 280), control: sample(3000, 0, 200), maxP99Latency: 800, decision: "pass" },
    { name: "a large ratio of a slowdown under minP99Increase (noise)", canary: sample(1000, 0, 33), control: sample(3000, 0, 7), decision: "pass" },
    { name: "slow but too few requests", canary: sample(150, 0, 5000), control: sample(3000, 0, 200), maxP99Latency: 800, decision: "inconclusive" },
    { name: "no control p99 to compare with", canary: sample(1000, 0, 400), control: sample(3000, 0, null), decision: "pass" },
    { name: "absolute bound without control traffic", canary: sample(1000, 0, 900), control: sample(0, 0, null), maxP99Latency: 800, decision: "fail" },
  ] as const)("$name → $decision", ({ canary, control, decision, ...bounds }) => {
    expect(verdictOf(canary, control, bounds).decision).toBe(decision);
  });

  it("names the latency figures when it fails on them", () => {
    expect(verdictOf(sample(1000, 0, 400), sample(3000, 0, 200)).reason).toBe(
      "canary p99 400 ms is 2× control's 200 ms, above the 1.5× limit",
    );
  });
});

describe("judge: simulated traffic (seeded)", () => {
  const SEEDS = 200;

  it.each([1, 3])("at 1 rps (15 canary requests a window) stays inconclusive over 4 windows at %d× a 1%% baseline", (regression) => {
    const decisions = simulate({ rps: 1, canaryWeight: 0.25, baselineRate: 0.01, regression }, 4, SEEDS);
    expect(fraction(decisions, "inconclusive")).toBe(1);
  });

  it("at 50 rps (25% canary, 1% baseline) fails a 3× regression within two windows in ≥ 95% of runs", () => {
    const decisions = simulate({ rps: 50, canaryWeight: 0.25, baselineRate: 0.01, regression: 3 }, 2, SEEDS);
    expect(fraction(decisions, "fail")).toBeGreaterThanOrEqual(0.95);
  });

  it("at 50 rps a healthy canary is failed in ≤ 2% of runs over four windows, and mostly passes", () => {
    const decisions = simulate({ rps: 50, canaryWeight: 0.25, baselineRate: 0.01, regression: 1 }, 4, SEEDS);
    expect(fraction(decisions, "fail")).toBeLessThanOrEqual(0.02);
    expect(fraction(decisions, "pass")).toBeGreaterThanOrEqual(0.9);
  });
});

describe("judge: properties", () => {
  const windowSample = fc
    .tuple(fc.nat({ max: 2_000_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.option(fc.double({ min: 0, max: 60_000, noNaN: true })))
    .map(([requests, share, p99Ms]) => sample(requests, Math.floor(requests * share), requests === 0 ? null : p99Ms));
  const analysis = fc.record({
    minRequests: fc.integer({ min: 1, max: 10_000 }),
    maxErrorRatio: fc.double({ min: 1, max: 10, noNaN: true }),
    maxP99Ratio: fc.double({ min: 1, max: 10, noNaN: true }),
    minP99Increase: fc.integer({ min: 0, max: 1_000 }),
    maxP99Latency: fc.option(fc.integer({ min: 1, max: 60_000 }), { nil: undefined }),
  });

  it("never throws, always returns a well-formed verdict, and never passes below minRequests", () => {
    fc.assert(
      fc.property(windowSample, windowSample, analysis, (canary, control, bounds) => {
        const verdict = verdictOf(canary, control, bounds);
        expect(verdictSchema.parse(verdict)).toEqual(verdict);
        if (canary.requests < bounds.minRequests) expect(verdict.decision).not.toBe("pass");
      }),
      { numRuns: 500, seed: 4 },
    );
  });
});
