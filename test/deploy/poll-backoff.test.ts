import { describe, expect, it } from "vitest";
import { isThrottling } from "../../src/aws/throttling.ts";
import { backoffMs, MAX_WARM_POLL_MS, warmPollMs, type WarmLook } from "../../src/deploy/poll-backoff.ts";
import { DEFAULT_TIMING } from "../../src/deploy/runner.ts";

/** AWS's default health checks (5 passes, 30 s apart) and deregistration delay (300 s). */
const AWS_GROUP = { healthyThreshold: 5, healthCheckIntervalMs: 30_000, deregistrationDelayMs: 300_000 };
const group = async () => AWS_GROUP;
const look = (over: Partial<WarmLook>): WarmLook => ({ elapsedMs: 0, desiredCount: 2, registered: 0, healthy: 0, draining: 0, registeredAfterMs: 0, drainingAfterMs: 0, ...over });

describe("the warm-up poll", () => {
  it("backs off while tasks start, from the poll interval toward one health-check interval", async () => {
    expect(await warmPollMs(DEFAULT_TIMING, look({ elapsedMs: 0 }), group)).toBe(DEFAULT_TIMING.pollMs);
    expect(await warmPollMs(DEFAULT_TIMING, look({ elapsedMs: 40_000, registered: 1 }), group)).toBe(10_000);
    // Capped at one health-check interval, and at a twentieth of the start allowance (300 s: 15 s).
    expect(backoffMs(DEFAULT_TIMING, 10 * 60_000)).toBe(Math.min(MAX_WARM_POLL_MS, DEFAULT_TIMING.warmTimeoutMs / 20));
    expect(backoffMs({ pollMs: 2_000, warmTimeoutMs: 600_000 }, 10 * 60_000)).toBe(MAX_WARM_POLL_MS);
    expect(backoffMs({ pollMs: 100, warmTimeoutMs: 30_000 }, 60_000)).toBe(1_500);
    expect(backoffMs({ pollMs: 2_000, warmTimeoutMs: 10_000 }, 60_000)).toBe(2_000);
  });

  it("once the targets are in their checks, waits until they can first be healthy, then polls fast, slowing for targets that take much longer", async () => {
    // Registered after 20 s: the fifth check can pass 4 intervals later, at 140 s.
    const checking = (elapsedMs: number) => look({ elapsedMs, registered: 2, registeredAfterMs: 20_000 });
    expect(await warmPollMs(DEFAULT_TIMING, checking(30_000), group)).toBe(15_000); // the cap: a twentieth of the start allowance
    expect(await warmPollMs(DEFAULT_TIMING, checking(135_000), group)).toBe(5_000);
    expect(await warmPollMs(DEFAULT_TIMING, checking(139_000), group)).toBe(DEFAULT_TIMING.pollMs);
    expect(await warmPollMs(DEFAULT_TIMING, checking(170_000), group)).toBe(DEFAULT_TIMING.pollMs);
    // An app that failed its first checks: a sixteenth of the time past the earliest.
    expect(await warmPollMs(DEFAULT_TIMING, checking(300_000), group)).toBe(10_000);
  });

  it("reads the target group's intervals on the world's clock: at a time scale of 1/60, 30 s checks last half a second", async () => {
    const scaled = { pollMs: 33, warmTimeoutMs: 30_000, awsClockScale: 1 / 60 };
    // Registered at once: the fifth check can pass 4 × 0.5 s later.
    expect(await warmPollMs(scaled, look({ elapsedMs: 500, registered: 2 }), group)).toBe(1_500);
    expect(await warmPollMs(scaled, look({ elapsedMs: 1_990, registered: 2 }), group)).toBe(33);
  });

  it("polls fast once every target is healthy and ECS has only to call the service steady", async () => {
    expect(await warmPollMs(DEFAULT_TIMING, look({ elapsedMs: 200_000, registered: 2, healthy: 2 }), group)).toBe(DEFAULT_TIMING.pollMs);
  });

  it("while old tasks drain, waits until the deregistration delay can have passed since the last look that saw none draining, then polls fast", async () => {
    // Draining began after the look at 150 s: the targets can be gone at 450 s.
    const draining = (elapsedMs: number) => look({ elapsedMs, registered: 2, healthy: 2, draining: 2, drainingAfterMs: 150_000 });
    expect(await warmPollMs(DEFAULT_TIMING, draining(160_000), group)).toBe(15_000); // the cap
    expect(await warmPollMs(DEFAULT_TIMING, draining(445_000), group)).toBe(5_000);
    expect(await warmPollMs(DEFAULT_TIMING, draining(450_000), group)).toBe(DEFAULT_TIMING.pollMs);
    expect(await warmPollMs(DEFAULT_TIMING, draining(480_000), group)).toBe(DEFAULT_TIMING.pollMs);
    // Draining far longer than its delay (a longer delay set since, a slow stop): a sixteenth of the time past it.
    expect(await warmPollMs(DEFAULT_TIMING, draining(610_000), group)).toBe(10_000);
  });

  it("reads the target group's settings only while targets are in their checks or drain", async () => {
    let reads = 0;
    const counted = async () => {
      reads++;
      return AWS_GROUP;
    };
    await warmPollMs(DEFAULT_TIMING, look({ elapsedMs: 10_000 }), counted);
    await warmPollMs(DEFAULT_TIMING, look({ elapsedMs: 200_000, registered: 2, healthy: 2 }), counted);
    expect(reads).toBe(0);
    await warmPollMs(DEFAULT_TIMING, look({ elapsedMs: 40_000, registered: 2 }), counted);
    expect(reads).toBe(1);
  });

  it("over warm-ups at AWS's default health checks, sees the colour healthy within a poll interval, with a fraction of the fixed poll's looks", async () => {
    // Tasks register 5–60 s in; the app listens 0–60 s after that; the first passing check comes 0–30 s later, the fifth 4 intervals after it.
    for (const registeredAt of [5_000, 23_000, 60_000]) {
      for (const listening of [0, 60_000]) {
        for (const phase of [0, 7_000, 29_000]) {
          const healthyAt = registeredAt + listening + phase + 4 * AWS_GROUP.healthCheckIntervalMs;
          let t = 0;
          let registeredAfterMs = 0;
          let looks = 0;
          for (;;) {
            looks++;
            const registered = t >= registeredAt ? 2 : 0;
            if (registered < 2) registeredAfterMs = t;
            const healthy = t >= healthyAt ? 2 : 0;
            if (healthy === 2) break;
            t += await warmPollMs(DEFAULT_TIMING, look({ elapsedMs: t, registered, healthy, registeredAfterMs }), group);
          }
          // Within a poll of turning healthy when on time; within about a sixteenth of the time past the earliest when the app was late.
          const pastEarliest = healthyAt - (registeredAfterMs + 4 * AWS_GROUP.healthCheckIntervalMs);
          expect(t - healthyAt).toBeLessThanOrEqual(Math.max(DEFAULT_TIMING.pollMs, pastEarliest / 15));
          expect(looks).toBeLessThan(healthyAt / DEFAULT_TIMING.pollMs / 2);
        }
      }
    }
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
