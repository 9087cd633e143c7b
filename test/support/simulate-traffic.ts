// Seeded traffic for the judge's tests and benchmark: windows of both colours as binomial counts.
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
  /** Control failure rate (5xx). */
  baselineRate: number;
  /** Canary failure rate as a multiple of the control's. */
  regression: number;
}

const P50_MS = 40;
const P99_MS = 120;

/** A healthy-looking target group's window: every request answered, `errorRate` of them with 5xx. */
export function answered(random: Random, requests: number, errorRate: number): WindowSample {
  const target5xx = binomial(random, requests, Math.min(1, errorRate));
  return {
    requests,
    responses: requests,
    target5xx,
    connectionErrors: 0,
    healthyHosts: 2,
    loadBalancer5xx: 0,
    p50Ms: requests === 0 ? null : P50_MS,
    p99Ms: requests === 0 ? null : P99_MS,
  };
}

/** One window of traffic, split between the colours by the listener weights. */
export function simulateWindow(random: Random, scenario: StepScenario): { canary: WindowSample; control: WindowSample } {
  const total = poisson(random, scenario.rps * scenario.windowSeconds);
  const canaryRequests = binomial(random, total, scenario.canaryWeight);
  return {
    canary: answered(random, canaryRequests, scenario.baselineRate * scenario.regression),
    control: answered(random, total - canaryRequests, scenario.baselineRate),
  };
}
