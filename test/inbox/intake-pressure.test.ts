// The intake's pressure signal, which makes the inbox worker defer: high only when the event loop
// had no idle time and webhooks arrived in the same window. Driven by a loop kept busy on purpose
// and by waits; nothing is asserted about how long anything took.
import { describe, expect, it } from "vitest";
import { BodyBudget } from "../../src/inbox/body-budget.ts";
import { intakePressure } from "../../src/inbox/intake-pressure.ts";

/** Keeps the event loop busy for a whole reading window and more. */
function busyLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

const idle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("intake pressure", () => {
  it("is high after a window with a busy loop and arriving webhooks, and low after one without either", async () => {
    const budget = new BodyBudget({ maxBodies: 32, maxBytes: 1024 });
    const high = intakePressure(budget);
    expect(high()).toBe(false);

    budget.open(10)?.release();
    busyLoop(150);
    expect(high()).toBe(true);

    // Busy, but no webhook arrived: the load is not the intake's.
    busyLoop(150);
    expect(high()).toBe(false);

    // Webhooks arrived, but the loop was idle most of the window: there is time to spare.
    budget.open(10)?.release();
    await idle(300);
    expect(high()).toBe(false);
  });
});
