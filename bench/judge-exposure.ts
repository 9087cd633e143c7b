// Exposure to canaries that never answer 5xx themselves: how long (seconds) a broken canary holds its
// weight before the judge fails it, at 50 requests a second, a 5% first step and 2 s looks. Each
// broken version shows in the metrics as it does on an ALB (see the README's judge section).
import { judge, startJudging } from "../src/analysis/judge.ts";
import type { WindowSample } from "../src/deploy/api.ts";
import { answered, binomial, mulberry32, poisson, type Random } from "../test/support/simulate-traffic.ts";
import { DEFAULT_SETTINGS } from "./judge-settings.ts";

const RPS = 50;
const WEIGHT = 0.05;
const LOOK_SECONDS = 2;
const MAX_LOOKS = 30;
const TRIALS = 500;
const SLOW_MS = 1_000;

/** The canary's window given the requests the listener sent it in this window and the one before. */
type Broken = (random: Random, sent: number, sentBefore: number) => WindowSample;

const silent = (healthyHosts: number | null): WindowSample => ({
  requests: 0,
  responses: 0,
  target5xx: 0,
  connectionErrors: 0,
  healthyHosts,
  loadBalancer5xx: 0,
  p50Ms: null,
  p99Ms: null,
});

const BROKEN: Record<string, Broken> = {
  // /health answers, real requests wait for the idle timeout (60 s): nothing is recorded meanwhile.
  hang: () => silent(2),
  // Tasks exit at start: no healthy target, the balancer answers 503 and no group records it.
  "crash loop": (_, sent) => ({ ...silent(0), loadBalancer5xx: sent }),
  // Targets registered and healthy by their check, but the port refuses: 502 and a connection error each.
  refuse: (_, sent) => ({ ...silent(2), requests: sent, connectionErrors: sent, loadBalancer5xx: sent }),
  // No target registered at all: 503 from the balancer, and CloudWatch has no HealthyHostCount datapoint.
  "empty target group": (_, sent) => ({ ...silent(null), loadBalancer5xx: sent }),
  // Answers after 1 s: a request is recorded when it completes, half a look later.
  slow: (random, sent, sentBefore) => {
    const completed = binomial(random, sent, 0.5) + binomial(random, sentBefore, 0.5);
    return { ...answered(random, completed, 0.01), p50Ms: completed ? SLOW_MS : null, p99Ms: completed ? SLOW_MS + 20 : null };
  },
};

/** Seconds the broken canary held weight in one seeded trial (Infinity if never failed). */
function exposure(broken: Broken, seed: number): number {
  const random = mulberry32(seed);
  let state = startJudging(null, 0, DEFAULT_SETTINGS);
  const settings = { ...DEFAULT_SETTINGS, interval: LOOK_SECONDS * 1000, metricsDelay: 0 };
  let sentBefore = 0;
  for (let look = 1; look <= MAX_LOOKS; look++) {
    const total = poisson(random, RPS * LOOK_SECONDS);
    const sent = binomial(random, total, WEIGHT);
    const judged = judge(state, { canary: broken(random, sent, sentBefore), control: answered(random, total - sent, 0.01), canaryWeight: WEIGHT, step: 0, windowStart: look - 1, windowEnd: look }, settings);
    if (judged.verdict.decision === "fail") return look * LOOK_SECONDS;
    state = judged.state;
    sentBefore = sent;
  }
  return Infinity;
}

/** Prints each broken version's exposure; returns the largest 99th percentile among them (the single worst trial is printed beside). */
export function benchExposure(): number {
  const rows = Object.entries(BROKEN).map(([name, broken]) => {
    const seconds = Array.from({ length: TRIALS }, (_, i) => exposure(broken, 31_000 + i)).toSorted((a, b) => a - b);
    return {
      "broken canary": name,
      "median exposure (s)": seconds[Math.floor(TRIALS / 2)]!,
      "p99 exposure (s)": seconds[Math.ceil(0.99 * TRIALS) - 1]!,
      "worst trial (s)": seconds.at(-1)!,
      "old judge": "never fails (reads target 5xx only)",
    };
  });
  console.log(`Exposure to canaries that never answer 5xx themselves (${RPS} rps, ${WEIGHT * 100}% weight, ${LOOK_SECONDS} s looks, ${TRIALS} seeded trials; the weight change itself adds a few ms):`);
  console.table(rows);
  return Math.max(...rows.map((r) => r["p99 exposure (s)"]));
}
