// The canary judge: one verdict per look, pure. It counts every request the canary did not serve as
// a failure, tests failures and routing with anytime-valid sequential tests whose evidence runs over
// the whole deployment, and fails at once on a canary with no healthy host or a clearly slow one.
import type { EnvironmentConfig } from "../config/repo-config.ts";
import type { JudgedSample, Verdict, WindowSample } from "../deploy/api.ts";
import type { JudgeState } from "./judge-state.ts";
import { eValue, noEvidence, observe, type SequentialTest } from "./sequential-test.ts";

export type AnalysisSettings = EnvironmentConfig["analysis"];

/** One look: the newest window of both colours. */
export interface Look {
  canary: WindowSample;
  control: WindowSample;
  /** The canary's listener weight (0..1) while both colours take traffic; null in the watch, where the control is the old colour's history. */
  canaryWeight: number | null;
  step: number;
  windowStart: number;
  windowEnd: number;
}

/** Failures: alternatives from 1.5× to 1000× the tolerated ratio, so both slight and total breakage gather evidence fast. */
const FAILURE_ALTERNATIVES = [1.5, 2, 3, 5, 10, 30, 1000];
/** Routing: the canary's targets answer half, a tenth, or none of the requests its weight sends (slow, hanging, refusing, crashing, empty). */
const ROUTING_TEST: SequentialTest = { nullRatio: 1, alternatives: [0.5, 0.1, 0.001] };
/** Share of the false-rollback budget spent on the routing test; the failure test gets the rest. */
const ROUTING_BUDGET_SHARE = 0.25;
/**
 * Canary answers from windows whose median was slower than control's p99 with margin, before slowness
 * is evidence (with at least half of all the step's answers): two answers beyond p99 × 1.5 + 50 ms
 * from a canary as fast as the control is a chance well under one in ten thousand.
 */
const SLOW_MIN_ANSWERS = 2;
/**
 * A window whose median is this many times beyond the tolerated latency is evidence enough with a
 * single answer: a canary as fast as the control answers beyond 4 × (1.5 × control's p99) far less
 * than once in a thousand, even with a heavy tail, and only the first answers of a step can make up
 * the half of them the rule also asks for. At a few requests per look, waiting for a second answer
 * is what left a slow canary exposed longest.
 */
const SEVERELY_SLOW_FACTOR = 4;
/** A p99 over fewer responses is just the slowest one or two. */
const P99_LATENCY_MIN_RESPONSES = 100;
/** In the watch, old-colour requests over the same time that make a silent new colour a failure rather than a quiet hour. */
const WATCH_MIN_CONTROL_REQUESTS = 10;

export const failureTest = (settings: AnalysisSettings): SequentialTest => ({ nullRatio: settings.maxErrorRatio, alternatives: FAILURE_ALTERNATIVES });

const EMPTY: JudgedSample = { requests: 0, errors: 0, p99Ms: null };

/** The state at the start of a step or the watch: evidence and `served` carry over the whole deployment; totals start again. */
export function startJudging(previous: JudgeState | null, since: number, settings: AnalysisSettings): JudgeState {
  return {
    failureEvidence: previous?.failureEvidence ?? noEvidence(failureTest(settings)),
    routingEvidence: previous?.routingEvidence ?? noEvidence(ROUTING_TEST),
    served: previous?.served ?? 0,
    since,
    judgedUntil: since,
    canary: EMPTY,
    control: EMPTY,
    slowAnswers: 0,
    severelySlowAnswers: 0,
    timedAnswers: 0,
  };
}

/** Requests a target of this group never answered: refused, reset or timed out (the balancer's 502/504). */
function unanswered(sample: WindowSample): number {
  return Math.max(sample.requests - sample.responses, sample.connectionErrors, 0);
}

const rate = (s: JudgedSample) => (s.requests === 0 ? 0 : s.errors / s.requests);
const percent = (r: number) => `${(100 * r).toFixed(r >= 0.01 || r === 0 ? 1 : 2)}%`;
const counts = (s: JudgedSample) => `${percent(rate(s))} (${s.errors}/${s.requests})`;
const ms = (value: number) => `${Math.round(value)} ms`;
const figure = (value: number) => (value >= 1000 ? value.toExponential(1) : Number(value.toPrecision(2)).toString());
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

const latencyLimit = (controlMs: number, settings: AnalysisSettings) => Math.max(controlMs * settings.maxP99Ratio, controlMs + settings.minP99Increase);

/**
 * How far the canary's median in this window was beyond the control's p99 with its tolerance:
 * `no`, `slow`, or `severely` (SEVERELY_SLOW_FACTOR times the limit); null when either is unknown.
 */
function slowWindow(canary: WindowSample, control: WindowSample, settings: AnalysisSettings): "no" | "slow" | "severely" | null {
  if (canary.p50Ms === null || control.p99Ms === null || canary.responses === 0) return null;
  const limit = latencyLimit(control.p99Ms, settings);
  return canary.p50Ms > SEVERELY_SLOW_FACTOR * limit ? "severely" : canary.p50Ms > limit ? "slow" : "no";
}

function latencyFailure(canary: WindowSample, control: WindowSample, settings: AnalysisSettings): string | null {
  const limit = (controlMs: number) => latencyLimit(controlMs, settings);
  const answered = canary.responses;
  if (settings.maxP99Latency !== undefined && canary.p99Ms !== null && answered >= P99_LATENCY_MIN_RESPONSES && canary.p99Ms > settings.maxP99Latency) {
    return `canary p99 ${ms(canary.p99Ms)} exceeds the ${ms(settings.maxP99Latency)} bound over ${answered} responses`;
  }
  if (control.p99Ms === null) return null;
  if (canary.p99Ms !== null && answered >= P99_LATENCY_MIN_RESPONSES && canary.p99Ms > limit(control.p99Ms)) {
    return `canary p99 ${ms(canary.p99Ms)} exceeds control's ${ms(control.p99Ms)} beyond the ${settings.maxP99Ratio}× / +${ms(settings.minP99Increase)} tolerance`;
  }
  return null;
}

export function judge(previous: JudgeState, look: Look, settings: AnalysisSettings): { verdict: Verdict; state: JudgeState } {
  const { canary, control, canaryWeight } = look;
  const concurrent = canaryWeight !== null;
  // 5xx the balancer answered that no target group recorded (e.g. a group with no target to route to).
  const balancerOnly = Math.max(0, canary.loadBalancer5xx - unanswered(canary) - (concurrent ? unanswered(control) : 0));
  const canaryWindow: JudgedSample = {
    requests: Math.max(canary.requests, canary.responses) + balancerOnly,
    errors: unanswered(canary) + canary.target5xx + balancerOnly,
    p99Ms: canary.p99Ms,
  };
  const controlWindow: JudgedSample = { requests: Math.max(control.requests, control.responses), errors: unanswered(control) + control.target5xx, p99Ms: control.p99Ms };
  const totals = (sofar: JudgedSample, window: JudgedSample): JudgedSample => ({
    requests: sofar.requests + window.requests,
    errors: sofar.errors + window.errors,
    p99Ms: maxOf(sofar.p99Ms, window.p99Ms),
  });

  const slow = slowWindow(canary, control, settings);
  const share = concurrent ? canaryWeight : canaryWindow.requests / (canaryWindow.requests + controlWindow.requests || 1);
  const state: JudgeState = {
    ...previous,
    failureEvidence: observe(failureTest(settings), previous.failureEvidence, { canary: canaryWindow.errors, control: controlWindow.errors, share }),
    routingEvidence: concurrent ? observe(ROUTING_TEST, previous.routingEvidence, { canary: canary.responses, control: control.responses, share }) : [...previous.routingEvidence],
    served: previous.served + Math.max(0, canary.responses - canary.target5xx),
    judgedUntil: look.windowEnd,
    canary: totals(previous.canary, canaryWindow),
    control: totals(previous.control, controlWindow),
    slowAnswers: previous.slowAnswers + (slow === "slow" || slow === "severely" ? canary.responses : 0),
    severelySlowAnswers: previous.severelySlowAnswers + (slow === "severely" ? canary.responses : 0),
    timedAnswers: previous.timedAnswers + (slow === null ? 0 : canary.responses),
  };

  const failureEvidence = eValue(state.failureEvidence);
  const failureBar = 1 / (settings.falseRollbackBudget * (1 - ROUTING_BUDGET_SHARE));
  const routingBar = 1 / (settings.falseRollbackBudget * ROUTING_BUDGET_SHARE);
  const verdict = (decision: Verdict["decision"], reason: string): { verdict: Verdict; state: JudgeState } => ({
    verdict: { decision, reason, canary: state.canary, control: state.control, evidence: failureEvidence, step: look.step, windowStart: look.windowStart, windowEnd: look.windowEnd },
    state,
  });
  const comparison = `canary failed ${counts(state.canary)} vs control ${counts(state.control)}; evidence ${figure(failureEvidence)} (fails at ${figure(failureBar)})`;

  if (canary.healthyHosts === 0 && control.healthyHosts !== 0 && controlWindow.requests > controlWindow.errors) {
    return verdict("fail", `canary target group has no healthy target while control serves (${comparison})`);
  }
  const canaryRate = rate(state.canary);
  const controlRate = rate(state.control);
  const beyondTolerance = canaryRate > Math.max(settings.maxErrorRatio * controlRate, controlRate + settings.maxErrorIncrease);
  if (failureEvidence >= failureBar && beyondTolerance) return verdict("fail", comparison);
  if (concurrent && eValue(state.routingEvidence) >= routingBar) {
    const expected = Math.round((control.responses * canaryWeight) / (1 - canaryWeight));
    return verdict(
      "fail",
      `canary holds ${Math.round(canaryWeight * 100)}% of traffic but its targets answered ${canary.responses} requests in the last window, where its weight sends about ${expected}: requests hang, are refused or find no target (${comparison})`,
    );
  }
  if (!concurrent && state.canary.requests === 0 && state.control.requests >= WATCH_MIN_CONTROL_REQUESTS) {
    return verdict("fail", `the new colour recorded no request while the old one served ${state.control.requests} over the same time before promotion`);
  }
  if ((state.slowAnswers >= SLOW_MIN_ANSWERS || state.severelySlowAnswers > 0) && 2 * state.slowAnswers >= state.timedAnswers) {
    return verdict("fail", `canary is slow: ${state.slowAnswers} of its ${state.timedAnswers} answers this step came in windows whose median exceeded control's p99 beyond the ${settings.maxP99Ratio}× / +${ms(settings.minP99Increase)} tolerance`);
  }
  const latency = latencyFailure(canary, control, settings);
  if (latency !== null) return verdict("fail", latency);

  if (state.served < settings.minRequests) {
    return verdict("inconclusive", `only ${state.served} canary requests answered so far (need ${settings.minRequests}): ${comparison}`);
  }
  // Not yet a rollback, but the evidence is halfway there (on a log scale): look longer rather than pass it on to more users.
  if (beyondTolerance && failureEvidence >= Math.sqrt(failureBar)) return verdict("inconclusive", `${comparison}: worse than tolerated so far, not yet conclusive`);
  return verdict("pass", `${comparison}; within tolerance (${settings.maxErrorRatio}× control, +${percent(settings.maxErrorIncrease)})`);
}

export type Judge = typeof judge;
