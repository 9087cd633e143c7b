// Under a burst of webhooks the intake gets the CPU: the inbox worker starts no new delivery while
// the intake is under pressure, but never defers one for longer than MAX_DEFERRAL_MS in a row, so
// processing is late under a flood, never stopped. The clock is the test's, so nothing here depends on timing.
import { afterEach, describe, expect, it } from "vitest";
import { DeliveryStore } from "../../src/inbox/delivery-store.ts";
import { inboxWorker, MAX_DEFERRAL_MS } from "../../src/inbox/worker.ts";
import type { ClaimLoop } from "../../src/store/claim-loop.ts";
import type { Store } from "../../src/store/open-store.ts";
import { silentLog } from "../support/probot.ts";
import { storeBackends } from "../support/stores.ts";

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000; i += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("condition not met within 10 s");
}

describe("the inbox worker during a burst at the intake", () => {
  let store: Store | undefined;
  let worker: ClaimLoop<unknown> | undefined;
  afterEach(async () => {
    await worker?.stop();
    await store?.close();
  });

  it("starts nothing while the intake is under pressure, starts a delivery once it is not, and defers none past the bound", async () => {
    store = await (await storeBackends[0]!.location()).open();
    const deliveries = new DeliveryStore(store);
    const clock = { now: 1_000_000 };
    let busy = true;
    let looked = 0;
    const processed: string[] = [];
    worker = inboxWorker({
      deliveries,
      log: silentLog,
      concurrency: 2,
      maxAttempts: 8,
      pollMs: 5,
      now: () => clock.now,
      intakeBusy: () => {
        looked += 1;
        return busy;
      },
      process: async (delivery) => void processed.push(delivery.id),
    }) as ClaimLoop<unknown>;
    await deliveries.record({ id: "during-burst", event: "issue_comment", payload: "{}" });
    worker.start();

    // Many looks at an intake under pressure, the clock standing still: nothing started.
    await until(() => looked >= 20);
    expect(processed).toEqual([]);
    expect(await deliveries.countByStatus()).toEqual({ pending: 1, done: 0, dead: 0 });

    // The pressure is off: the delivery is started.
    busy = false;
    worker.wake();
    await until(() => processed.length === 1);
    expect(processed).toEqual(["during-burst"]);

    // A burst that does not end: a delivery waits at most MAX_DEFERRAL_MS.
    busy = true;
    await deliveries.record({ id: "endless-burst", event: "issue_comment", payload: "{}" });
    const lookedBefore = looked;
    await until(() => looked >= lookedBefore + 20);
    clock.now += MAX_DEFERRAL_MS - 1;
    const lookedLater = looked;
    await until(() => looked >= lookedLater + 20);
    expect(processed).toEqual(["during-burst"]);
    clock.now += 1;
    await until(() => processed.length === 2);
    expect(processed).toEqual(["during-burst", "endless-burst"]);
  });
});
