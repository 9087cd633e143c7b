// Under a burst of webhooks the intake gets most of the CPU: while the intake is under pressure the
// inbox worker keeps one delivery in hand instead of its full concurrency, so processing goes on,
// one at a time, and takes up its full pace again once the pressure is off.
import { afterEach, describe, expect, it } from "vitest";
import { DeliveryStore } from "../../src/inbox/delivery-store.ts";
import { inboxWorker } from "../../src/inbox/worker.ts";
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

  it("keeps one delivery in hand while the intake is under pressure, and all it may once it is not", async () => {
    store = await (await storeBackends[0]!.location()).open();
    const deliveries = new DeliveryStore(store);
    let pressure = true;
    let looked = 0;
    const started: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    worker = inboxWorker({
      deliveries,
      log: silentLog,
      concurrency: 3,
      maxAttempts: 8,
      pollMs: 5,
      intakeBusy: () => {
        looked += 1;
        return pressure;
      },
      process: async (delivery) => {
        started.push(delivery.id);
        await held;
      },
    }) as ClaimLoop<unknown>;
    for (const id of ["d-1", "d-2", "d-3"]) await deliveries.record({ id, event: "issue_comment", payload: "{}" });
    worker.start();

    // Under pressure: the first delivery is started, and many looks later it is still the only one.
    await until(() => started.length === 1 && looked >= 20);
    expect(started).toEqual(["d-1"]);

    // The pressure is off: the others start beside it.
    pressure = false;
    worker.wake();
    await until(() => started.length === 3);
    expect(started).toEqual(["d-1", "d-2", "d-3"]);
    release();
  });
});
