// The judge Gantry had before the sequential test, kept as the benchmark's baseline: one verdict per
// window from the step's cumulative target 5xx counts, with no correction for repeated looks.
//
// Test: Bayesian, P(canary 5xx rate > maxErrorRatio × control rate + tolerance) from Gamma
// posteriors. A posterior stays coherent when looked at after every window (a fixed-n test does not),
// needs no assumed effect size (an SPRT does), and is a probability people can read in a PR comment.
import { probabilityWorse, ratePosteriors, ratioInterval } from "./posterior.ts";

/** Target requests, target 5xx, p99: all the old judge read. */
export interface WindowSample {
  requests: number;
  errors: number;
  p99Ms: number | null;
}

export interface AnalysisSettings {
  minRequests: number;
  maxErrorRatio: number;
  maxP99Latency?: number;
  maxP99Ratio: number;
  minP99Increase: number;
}

export interface Verdict {
  decision: "pass" | "fail" | "inconclusive";
  reason: string;
  canary: WindowSample;
  control: WindowSample;
  ratioInterval: [number, number] | null;
  probabilityWorse: number | null;
}

export interface JudgeInput {
  canary: WindowSample;
  control: WindowSample;
  settings: AnalysisSettings;
}

/** Absolute 5xx excess never worth a rollback (2 in 10,000), so a zero-error control is not a zero bound. */
const ERROR_TOLERANCE = 0.0002;
/** P(worse) that fails a canary with at least minRequests requests. */
const FAIL_PROBABILITY = 0.9;
/** P(worse) at or under which a canary with at least minRequests requests passes. */
const PASS_PROBABILITY = 0.25;
/** Below minRequests only overwhelming evidence fails (e.g. 10/10 errors against a 0.1% control). */
const OVERWHELMING_PROBABILITY = 0.999;
/** A p99 over fewer requests is just the slowest one or two; not evidence. */
const LATENCY_MIN_REQUESTS = 100;
const INTERVAL_MASS = 0.9;

const rate = (s: WindowSample) => (s.requests === 0 ? 0 : s.errors / s.requests);
const percent = (r: number) => `${(100 * r).toFixed(r >= 0.01 || r === 0 ? 1 : 2)}%`;
const counts = (s: WindowSample) => `${percent(rate(s))} (${s.errors}/${s.requests})`;
const ms = (value: number) => `${Math.round(value)} ms`;
const times = (value: number) => `${Number(value.toFixed(2))}×`;

/** 5xx and request counts come from separate CloudWatch metrics and can disagree within a window. */
function consistent(sample: WindowSample): WindowSample {
  return { ...sample, errors: Math.min(sample.errors, sample.requests) };
}

function latencyFailure(canary: WindowSample, control: WindowSample, settings: AnalysisSettings): string | null {
  if (canary.p99Ms === null || canary.requests < Math.max(settings.minRequests, LATENCY_MIN_REQUESTS)) return null;
  if (settings.maxP99Latency !== undefined && canary.p99Ms > settings.maxP99Latency) {
    return `canary p99 ${ms(canary.p99Ms)} exceeds the ${ms(settings.maxP99Latency)} bound over ${canary.requests} requests`;
  }
  if (control.p99Ms !== null && control.p99Ms > 0 && control.requests >= LATENCY_MIN_REQUESTS) {
    const ratio = canary.p99Ms / control.p99Ms;
    if (ratio > settings.maxP99Ratio && canary.p99Ms - control.p99Ms > settings.minP99Increase) {
      return `canary p99 ${ms(canary.p99Ms)} is ${times(ratio)} control's ${ms(control.p99Ms)}, above the ${times(settings.maxP99Ratio)} limit`;
    }
  }
  return null;
}

export function oldJudge(input: JudgeInput): Verdict {
  const { settings } = input;
  const canary = consistent(input.canary);
  const control = consistent(input.control);
  const verdict = (
    decision: Verdict["decision"],
    reason: string,
    evidence: Pick<Verdict, "ratioInterval" | "probabilityWorse"> = { ratioInterval: null, probabilityWorse: null },
  ): Verdict => ({
    decision,
    reason,
    canary,
    control,
    ...evidence,
  });

  if (canary.requests === 0) {
    return verdict("inconclusive", "no canary requests in this window; check that traffic reaches the green target group");
  }
  const latency = latencyFailure(canary, control, settings);
  if (control.requests === 0) {
    if (latency !== null) return verdict("fail", latency);
    return verdict("inconclusive", `no control requests to compare canary 5xx ${counts(canary)} with; extend the bake or judge by hand`);
  }

  const posteriors = ratePosteriors(canary, control);
  const worse = probabilityWorse(posteriors.canary, posteriors.control, settings.maxErrorRatio, ERROR_TOLERANCE);
  const evidence = { probabilityWorse: worse, ratioInterval: ratioInterval(posteriors.canary, posteriors.control, INTERVAL_MASS) };
  const bound = `${times(settings.maxErrorRatio)} control`;
  const comparison = `canary 5xx ${counts(canary)} vs control ${counts(control)}; P(worse than ${bound}) = ${worse.toFixed(worse > 0.99 && worse < 1 ? 3 : 2)}`;
  const enough = canary.requests >= settings.minRequests;

  if (worse >= OVERWHELMING_PROBABILITY || (enough && worse >= FAIL_PROBABILITY)) return verdict("fail", comparison, evidence);
  if (latency !== null) return verdict("fail", latency, evidence);
  if (!enough) {
    return verdict(
      "inconclusive",
      `only ${canary.requests} canary requests (need ${settings.minRequests}), too few to judge: ${comparison}; extend the bake`,
      evidence,
    );
  }
  // A canary without a single 5xx shows no harm, whatever the prior-dominated posterior says.
  if (canary.errors === 0 || worse <= PASS_PROBABILITY) {
    const p99 =
      canary.p99Ms === null ? "" : `; p99 ${ms(canary.p99Ms)} vs ${control.p99Ms === null ? "no control p99" : ms(control.p99Ms)}`;
    return verdict("pass", `${comparison}, within the bound${p99}`, evidence);
  }
  return verdict("inconclusive", `${comparison}, above the bound but not yet conclusive; extend the bake`, evidence);
}
