import { afterEach, describe, expect, it } from "vitest";
import { DeliveryStore } from "../../src/inbox/delivery-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { storeBackends } from "../support/stores.ts";

const delivery = (id: string) => ({ id, event: "push", payload: `{"n":"${id}"}` });

describe.each(storeBackends)("webhook inbox on $name", (backend) => {
  const opened: Store[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  async function inbox(clock = { now: 1_000_000 }) {
    const location = await backend.location();
    const store = await location.open();
    opened.push(store);
    return { store, location, clock, deliveries: new DeliveryStore(store, () => clock.now) };
  }

  it("stores a delivery once and reports a redelivery as a duplicate", async () => {
    const { deliveries } = await inbox();
    expect(await deliveries.record(delivery("d-1"))).toBe("queued");
    expect(await deliveries.record(delivery("d-1"))).toBe("duplicate");
    expect(await deliveries.countByStatus()).toEqual({ pending: 1, done: 0, dead: 0 });
  });

  it("hands a claimed delivery to no one else until its lease runs out", async () => {
    const { deliveries, clock } = await inbox();
    await deliveries.record(delivery("d-1"));
    const first = await deliveries.claimNext(60_000);
    expect(first).toMatchObject({ id: "d-1", event: "push", payload: '{"n":"d-1"}', attempts: 1 });
    expect(await deliveries.claimNext(60_000)).toBeUndefined();
    clock.now += 60_001;
    const again = await deliveries.claimNext(60_000);
    expect(again).toMatchObject({ id: "d-1", attempts: 2 });
  });

  it("ignores the finish of a claimer whose lease was taken over", async () => {
    const { deliveries, clock } = await inbox();
    await deliveries.record(delivery("d-1"));
    const stale = (await deliveries.claimNext(1_000))!;
    clock.now += 1_001;
    const current = (await deliveries.claimNext(1_000))!;
    await deliveries.complete(stale);
    expect(await deliveries.countByStatus()).toMatchObject({ pending: 1, done: 0 });
    await deliveries.complete(current);
    expect(await deliveries.countByStatus()).toMatchObject({ pending: 0, done: 1 });
  });

  it("completes deliveries handled at once together, still ignoring a claimer whose lease was taken over", async () => {
    const { deliveries, clock } = await inbox();
    await deliveries.record(delivery("d-1"));
    clock.now += 1;
    await deliveries.record(delivery("d-2"));
    const stale = (await deliveries.claimNext(1_000))!;
    clock.now += 1_001;
    const [second, current] = [(await deliveries.claimNext(1_000))!, (await deliveries.claimNext(1_000))!];
    expect([stale.id, second.id, current.id]).toEqual(["d-1", "d-2", "d-1"]);
    await Promise.all([deliveries.complete(stale), deliveries.complete(second)]);
    expect(await deliveries.countByStatus()).toMatchObject({ pending: 1, done: 1 });
    await deliveries.complete(current);
    expect(await deliveries.countByStatus()).toMatchObject({ pending: 0, done: 2 });
  });

  it("retries a failed delivery at the time given and gives up when there is none", async () => {
    const { deliveries, clock } = await inbox();
    await deliveries.record(delivery("d-1"));
    await deliveries.fail((await deliveries.claimNext(1_000))!, "boom", clock.now + 5_000);
    expect(await deliveries.claimNext(1_000)).toBeUndefined();
    clock.now += 5_000;
    const retried = (await deliveries.claimNext(1_000))!;
    expect(retried.attempts).toBe(2);
    await deliveries.fail(retried, "boom again", undefined);
    clock.now += 1_000_000;
    expect(await deliveries.claimNext(1_000)).toBeUndefined();
    expect(await deliveries.countByStatus()).toEqual({ pending: 0, done: 0, dead: 1 });
  });

  it("hands out an urgent delivery before older ones, and to the urgent lane's claimer only urgent ones", async () => {
    const { deliveries, clock } = await inbox();
    for (let i = 0; i < 3; i += 1) {
      await deliveries.record(delivery(`refused-${i}`));
      clock.now += 10;
    }
    await deliveries.record(delivery("rollback"), 1);
    expect(await deliveries.claimNext(60_000, { urgentOnly: true })).toMatchObject({ id: "rollback" });
    expect(await deliveries.claimNext(60_000, { urgentOnly: true })).toBeUndefined();
    await deliveries.record(delivery("abort"), 1);
    expect(await deliveries.claimNext(60_000)).toMatchObject({ id: "abort" });
    expect(await deliveries.claimNext(60_000)).toMatchObject({ id: "refused-0" });
  });

  it("gives concurrent claimers on one database distinct deliveries", async () => {
    const { location, clock } = await inbox();
    const replicas = await Promise.all([location.open(), location.open()]);
    opened.push(...replicas);
    const [a, b] = replicas.map((store) => new DeliveryStore(store, () => clock.now));
    for (let i = 0; i < 20; i += 1) await a!.record(delivery(`d-${i}`));
    const claims = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a! : b!).claimNext(60_000)));
    const ids = claims.flatMap((claim) => (claim ? [claim.id] : []));
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });

  it("keeps its data across a reopen (migrations run once)", async () => {
    const { deliveries, location } = await inbox();
    await deliveries.record(delivery("d-1"));
    const reopened = await location.open();
    opened.push(reopened);
    expect(await new DeliveryStore(reopened).record(delivery("d-1"))).toBe("duplicate");
  });
});
