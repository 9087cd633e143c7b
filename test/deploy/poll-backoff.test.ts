import { describe, expect, it } from "vitest";
import { isThrottling } from "../../src/aws/throttling.ts";
import { MAX_WARM_POLL_MS, warmPollMs } from "../../src/deploy/poll-backoff.ts";
import { DEFAULT_TIMING } from "../../src/deploy/runner.ts";

describe("the warm-up poll", () => {
  it("starts at the poll interval and backs off toward one health-check interval", () => {
    expect(warmPollMs(DEFAULT_TIMING, 0)).toBe(DEFAULT_TIMING.pollMs);
    expect(warmPollMs(DEFAULT_TIMING, 40_000)).toBe(10_000);
    // Capped at one health-check interval, and at a twentieth of the start allowance (300 s: 15 s).
    expect(warmPollMs(DEFAULT_TIMING, 10 * 60_000)).toBe(Math.min(MAX_WARM_POLL_MS, DEFAULT_TIMING.warmTimeoutMs / 20));
    expect(warmPollMs({ pollMs: 2_000, warmTimeoutMs: 600_000 }, 10 * 60_000)).toBe(MAX_WARM_POLL_MS);
  });

  it("looks often enough to notice a short warm-up timeout", () => {
    expect(warmPollMs({ pollMs: 100, warmTimeoutMs: 30_000 }, 60_000)).toBe(1_500);
    expect(warmPollMs({ pollMs: 2_000, warmTimeoutMs: 10_000 }, 60_000)).toBe(2_000);
  });

  it("over a warm-up at AWS's default health checks, spends a fraction of the fixed poll's calls", () => {
    let looks = 0;
    for (let t = 0; t < 180_000; t += warmPollMs(DEFAULT_TIMING, t)) looks++;
    expect(looks).toBeLessThan(180_000 / DEFAULT_TIMING.pollMs / 4);
  });
});

describe("throttling", () => {
  const named = (name: string) => Object.assign(new Error("Rate exceeded"), { name });

  it("is recognised under every service's name and when wrapped", () => {
    expect(isThrottling(named("Throttling"))).toBe(true);
    expect(isThrottling(named("ThrottlingException"))).toBe(true);
    expect(isThrottling(new Error("ModifyListener was rejected", { cause: named("Throttling") }))).toBe(true);
    expect(isThrottling(named("ValidationError"))).toBe(false);
    expect(isThrottling("Throttling")).toBe(false);
  });
});
