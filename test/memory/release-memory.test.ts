import { afterEach, describe, expect, it, vi } from "vitest";
import { releaseMemoryWhenIdle } from "../../src/memory/release-memory.ts";

/** A process whose resident set and event-loop load the test sets; a collection brings it back to `retainedMb`. */
function processModel(startMb: number) {
  const model = { rssMb: startMb, busy: 0, retainedMb: startMb, collections: 0 };
  const release = releaseMemoryWhenIdle({
    intervalMs: 1_000,
    confirmMs: 100,
    growthMb: 48,
    rssMb: () => model.rssMb,
    utilization: () => model.busy,
    collect: () => {
      model.collections++;
      model.rssMb = model.retainedMb;
    },
  });
  return { model, release };
}

describe("giving memory back after a burst", () => {
  afterEach(() => vi.useRealTimers());

  it("collects once the event loop is idle again after the resident set grew, and not again until it grows anew", () => {
    vi.useFakeTimers();
    const { model, release } = processModel(110);
    model.rssMb = 380;
    model.busy = 0.9; // the burst: never paused for a collection
    vi.advanceTimersByTime(5_000);
    expect(model.collections).toBe(0);
    model.busy = 0.01;
    vi.advanceTimersByTime(1_100);
    expect(model.collections).toBe(1);
    expect(model.rssMb).toBe(110);
    vi.advanceTimersByTime(10_000);
    expect(model.collections).toBe(1);
    model.rssMb = 170;
    vi.advanceTimersByTime(1_100);
    expect(model.collections).toBe(2);
    release.stop();
  });

  it("does not collect when work starts between the idle look and the collection", () => {
    vi.useFakeTimers();
    const { model, release } = processModel(110);
    model.rssMb = 380;
    model.busy = 0.01;
    vi.advanceTimersByTime(1_000); // the idle look
    model.busy = 0.6; // webhooks arrive
    vi.advanceTimersByTime(100);
    expect(model.collections).toBe(0);
    model.busy = 0.01;
    vi.advanceTimersByTime(1_100);
    expect(model.collections).toBe(1);
    release.stop();
  });

  it("leaves a process alone whose memory grew less than the threshold, or that holds what it grew to", () => {
    vi.useFakeTimers();
    const { model, release } = processModel(110);
    model.rssMb = 140;
    vi.advanceTimersByTime(5_000);
    expect(model.collections).toBe(0);
    // Memory that is really in use comes back after the collection: one collection, not one a look.
    model.rssMb = 300;
    model.retainedMb = 300;
    vi.advanceTimersByTime(5_000);
    expect(model.collections).toBe(1);
    release.stop();
  });
});
