// Judged windows lie on CloudWatch's minutes: whole minutes ending metricsDelay before now on AWS,
// the emulator's scaled minute on the local world at a time scale.
import { describe, expect, it } from "vitest";
import { alignUp, completeAt, completeUntil, gridOf } from "../../src/analysis/windows.ts";

const at = (iso: string) => Date.parse(iso);

describe("analysis windows", () => {
  it("on AWS, end on a whole minute at or before now − metricsDelay, and wait for the next one to be published", () => {
    const settings = { interval: 60_000, metricsDelay: 120_000 };
    const now = at("2026-12-01T06:05:42Z");
    expect(completeUntil(now, settings)).toBe(at("2026-12-01T06:03:00Z"));
    // A step that started at 06:04:10 judges from 06:05:00; its first minute is published at 06:08:00.
    expect(alignUp(at("2026-12-01T06:04:10Z"), settings)).toBe(at("2026-12-01T06:05:00Z"));
    expect(completeAt(at("2026-12-01T06:06:00Z"), settings)).toBe(at("2026-12-01T06:08:00Z"));
  });

  it("keep the minute grid for intervals longer than a minute", () => {
    expect(gridOf({ interval: 300_000, metricsDelay: 60_000 })).toBe(60_000);
  });

  it("at a time scale, lie on the emulator's scaled minute (3 s at 1/20), never splitting one", () => {
    const settings = { interval: 3_000, metricsDelay: 6_000 };
    expect(gridOf(settings)).toBe(3_000);
    expect(completeUntil(1_000_000 + 8_500, settings)).toBe(1_002_000);
    expect(alignUp(1_000_001, settings)).toBe(1_002_000);
  });
});
