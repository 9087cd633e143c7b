import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eValue, noEvidence, observe, type SequentialTest } from "../../src/analysis/sequential-test.ts";
import { binomial, mulberry32 } from "../support/simulate-traffic.ts";

const TEST: SequentialTest = { nullRatio: 1.5, alternatives: [1.5, 2, 3, 5, 10, 30, 1000] };

function logChoose(n: number, k: number): number {
  let sum = 0;
  for (let i = 1; i <= k; i++) sum += Math.log(n - k + i) - Math.log(i);
  return sum;
}

describe("sequential test: mixture of likelihood ratios on the canary's share of events", () => {
  it("starts at 1 and learns nothing from a window without events or without a split", () => {
    const none = noEvidence(TEST);
    expect(eValue(none)).toBe(1);
    expect(eValue(observe(TEST, none, { canary: 0, control: 0, share: 0.05 }))).toBe(1);
    expect(eValue(observe(TEST, none, { canary: 5, control: 3, share: 1 }))).toBe(1);
    expect(eValue(observe(TEST, none, { canary: 5, control: 3, share: 0 }))).toBe(1);
  });

  it("is a supermartingale under every null ratio: one more window never raises the expected e-value", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0.01, max: 0.95, noNaN: true }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.array(fc.double({ min: -20, max: 3, noNaN: true }), { minLength: TEST.alternatives.length, maxLength: TEST.alternatives.length }),
        (events, share, fractionOfNull, before) => {
          // The canary's true ratio θ ≤ θ0: each event falls on it with q(θ).
          const theta = TEST.nullRatio * fractionOfNull;
          const q = (theta * share) / (theta * share + 1 - share);
          let expected = 0;
          for (let k = 0; k <= events; k++) {
            const probability = Math.exp(logChoose(events, k) + k * Math.log(q) + (events - k) * Math.log1p(-q));
            expected += probability * eValue(observe(TEST, before, { canary: k, control: events - k, share }));
          }
          expect(expected).toBeLessThanOrEqual(eValue(before) * (1 + 1e-9));
        },
      ),
      { seed: 9, numRuns: 300 },
    );
  });

  it("reaches 1/α at most α of the time over 60 looks at the null's edge, shares changing between looks", () => {
    const alpha = 0.05;
    const runs = 2000;
    const random = mulberry32(42);
    let rejected = 0;
    for (let run = 0; run < runs; run++) {
      let evidence = noEvidence(TEST);
      for (let look = 0; look < 60; look++) {
        const share = [0.05, 0.25, 0.5][Math.floor(look / 20)]!;
        const events = binomial(random, 200, 0.05);
        const q = (TEST.nullRatio * share) / (TEST.nullRatio * share + 1 - share);
        const canary = binomial(random, events, q);
        evidence = observe(TEST, evidence, { canary, control: events - canary, share });
        if (eValue(evidence) >= 1 / alpha) {
          rejected++;
          break;
        }
      }
    }
    // Ville's inequality bounds it by α; three standard errors of slack for the simulation.
    expect(rejected / runs).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / runs));
  });

  it("grows fast against a canary ten times worse, and not at all against a better one", () => {
    const worse = observe(TEST, noEvidence(TEST), { canary: 15, control: 28, share: 0.05 });
    expect(eValue(worse)).toBeGreaterThan(1 / 0.0045);
    const better = observe(TEST, noEvidence(TEST), { canary: 0, control: 60, share: 0.05 });
    expect(eValue(better)).toBeLessThan(1);
  });
});
