import { describe, expect, it } from "vitest";
import { betaI, gammaP, logGamma, probabilityWorse, ratioInterval, type RatePosterior } from "../../src/analysis/posterior.ts";

describe("posterior arithmetic", () => {
  it("matches known values of the special functions", () => {
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(logGamma(10)).toBeCloseTo(Math.log(362_880), 10);
    expect(gammaP(0.5, 0.5)).toBeCloseTo(0.682_689_492_137_086, 12); // P(chi²₁ < 1)
    expect(gammaP(1, 2)).toBeCloseTo(1 - Math.exp(-2), 12);
    expect(betaI(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(betaI(0.25, 0.5, 0.5)).toBeCloseTo((2 / Math.PI) * Math.asin(0.5), 12);
  });

  it.each([
    [{ shape: 1.5, rate: 30 }, { shape: 10.5, rate: 2000 }],
    [{ shape: 22, rate: 800 }, { shape: 22, rate: 2300 }],
    [{ shape: 1, rate: 300 }, { shape: 1, rate: 2700 }],
    [{ shape: 2701, rate: 15_000 }, { shape: 2701, rate: 135_000 }],
    [{ shape: 40, rate: 4000 }, { shape: 3, rate: 500 }],
  ])("integrates P(canary > 1.5 × control) to the closed form without tolerance", (canary: RatePosterior, control: RatePosterior) => {
    const t = (1.5 * canary.rate) / control.rate;
    expect(probabilityWorse(canary, control, 1.5, 0)).toBeCloseTo(1 - betaI(t / (1 + t), canary.shape, control.shape), 3);
  });

  it("gives a ratio interval around the observed ratio that narrows with evidence", () => {
    const [lo, hi] = ratioInterval({ shape: 50, rate: 500 }, { shape: 10, rate: 2000 }, 0.9);
    const [wideLo, wideHi] = ratioInterval({ shape: 5, rate: 50 }, { shape: 1, rate: 200 }, 0.9);
    expect(lo).toBeLessThan(20);
    expect(hi).toBeGreaterThan(20);
    expect(hi / lo).toBeLessThan(wideHi / wideLo);
  });
});
