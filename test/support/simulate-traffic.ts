// Seeded traffic for the judge's tests and benchmark: a canary step's windows as binomial counts.
import type { WindowSample } from "../../src/deploy/api.ts";

export type Random = () => number;

/** mulberry32: a tiny 32-bit PRNG, plenty for simulations and reproducible from its seed. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Exact by inversion while the mean is small; normal approximation beyond, where it is accurate. */
const EXACT_MEAN = 30;

export function poisson(random: Random, mean: number): number {
  if (mean >= EXACT_MEAN) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
  const u = random();
  let k = 0;
  let probability = Math.exp(-mean);
  let cumulative = probability;
  while (u > cumulative && probability > 0) {
    k++;
    probability *= mean / k;
    cumulative += probability;
  }
  return k;
}

export function binomial(random: Random, n: number, p: number): number {
  if (p > 0.5) return n - binomial(random, n, 1 - p);
  const mean = n * p;
  if (mean >= EXACT_MEAN) return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(random))));
  const u = random();
  let k = 0;
  let probability = (1 - p) ** n;
  let cumulative = probability;
  while (u > cumulative && k < n) {
    probability *= ((n - k) / (k + 1)) * (p / (1 - p));
    k++;
    cumulative += probability;
  }
  return k;
}

export interface StepScenario {
  /** Requests per second reaching the listener, both colours together. */
  rps: number;
  /** Share of traffic on the canary, 0..1. */
  canaryWeight: number;
  windowSeconds: number;
  /** Control 5xx rate. */
  baselineRate: number;
  /** Canary 5xx rate as a multiple of the control's. */
  regression: number;
}

const P99_MS = 120;

function sample(random: Random, requests: number, errorRate: number): WindowSample {
  return { requests, errors: binomial(random, requests, Math.min(1, errorRate)), p99Ms: requests === 0 ? null : P99_MS };
}

/** One window of traffic, split between the colours by the listener weights. */
export function simulateWindow(random: Random, scenario: StepScenario): { canary: WindowSample; control: WindowSample } {
  const total = poisson(random, scenario.rps * scenario.windowSeconds);
  const canaryRequests = binomial(random, total, scenario.canaryWeight);
  return {
    canary: sample(random, canaryRequests, scenario.baselineRate * scenario.regression),
    control: sample(random, total - canaryRequests, scenario.baselineRate),
  };
}

/** Cumulative counts of a step so far; p99 is kept from the latest window (all equal here). */
export function accumulate(sofar: WindowSample, next: WindowSample): WindowSample {
  return { requests: sofar.requests + next.requests, errors: sofar.errors + next.errors, p99Ms: next.p99Ms ?? sofar.p99Ms };
}
