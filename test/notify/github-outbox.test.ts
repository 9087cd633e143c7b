import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { decideRetry } from "../../src/notify/github-retry.ts";
import { GitHubOutbox, PRIORITY, type OutboxSubject } from "../../src/notify/outbox-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { storeBackends } from "../support/stores.ts";

const subject = (id: string, installationId = 2): OutboxSubject => ({ key: `deployment:${id}`, installationId, kind: "deployment" });
const LEASE = 60_000;

describe.each(storeBackends)("GitHub outbox, store on $name", (backend) => {
  let location: Awaited<ReturnType<typeof backend.location>>;
  let store: Store;
  let clock: number;
  let outbox: GitHubOutbox;

  beforeEach(async () => {
    location = await backend.location();
    store = await location.open();
    clock = 1_000_000;
    outbox = new GitHubOutbox(store, () => clock);
  });
  afterEach(async () => {
    await store.close();
  });

  it("hands a subject's pending changes to one claimer, in order; no other replica gets it while the lease holds", async () => {
    await outbox.record(subject("a"), "a1", PRIORITY.normal);
    await outbox.record(subject("a"), "a2", PRIORITY.normal);
    const otherStore = await location.open();
    onTestFinished(() => otherStore.close());
    const other = new GitHubOutbox(otherStore, () => clock);

    // Two replicas claiming at the same moment: exactly one gets the subject.
    const [mine, theirs] = await Promise.all([outbox.claimNext("replica-1", LEASE), other.claimNext("replica-2", LEASE)]);
    expect([mine, theirs].filter(Boolean)).toHaveLength(1);
    const claim = mine ?? theirs;
    expect(claim).toMatchObject({ key: "deployment:a", installationId: 2, kind: "deployment", attempts: 1, changes: ["a1", "a2"] });
    expect(await outbox.claimNext("replica-1", LEASE)).toBeUndefined();
    // A change recorded while the claim is out does not make the subject claimable by anyone else.
    await outbox.record(subject("a"), "a3", PRIORITY.normal);
    expect(await other.claimNext("replica-2", LEASE)).toBeUndefined();

    expect(await outbox.complete(claim!)).toBe(true);
    // Only what the claim read is deleted: the change recorded meanwhile is due at once.
    expect(await outbox.pendingCount()).toBe(1);
    expect((await other.claimNext("replica-2", LEASE))?.changes).toEqual(["a3"]);
  });

  it("gives a crashed claimer's changes to the next claimer after the lease, and fences out its late completion", async () => {
    await outbox.record(subject("a"), "a1", PRIORITY.normal);
    const crashed = (await outbox.claimNext("replica-1", LEASE))!;
    clock += LEASE - 1;
    expect(await outbox.claimNext("replica-2", LEASE)).toBeUndefined();
    clock += 1;
    const taken = await outbox.claimNext("replica-2", LEASE);
    expect(taken).toMatchObject({ changes: ["a1"], attempts: 2 });

    expect(await outbox.complete(crashed)).toBe(false);
    expect(await outbox.pendingCount()).toBe(1);
    expect(await outbox.complete(taken!)).toBe(true);
    expect(await outbox.pendingCount()).toBe(0);
  });

  it("keeps unacknowledged changes across a restart of the store", async () => {
    await outbox.record(subject("a"), "a1", PRIORITY.normal);
    await outbox.claimNext("replica-1", LEASE);
    await store.close();
    store = await location.open();
    outbox = new GitHubOutbox(store, () => clock + LEASE);
    expect((await outbox.claimNext("replica-restarted", LEASE))?.changes).toEqual(["a1"]);
  });

  it("sends traffic-moved news first, ahead of older ordinary changes", async () => {
    await outbox.record(subject("old"), "progress", PRIORITY.normal);
    clock += 10;
    await outbox.record(subject("bad"), "rolling back", PRIORITY.trafficMoved);
    const first = (await outbox.claimNext("replica-1", LEASE))!;
    expect(first.key).toBe("deployment:bad");
    await outbox.complete(first);
    expect((await outbox.claimNext("replica-1", LEASE))?.key).toBe("deployment:old");
  });

  it("lets one subject per installation out at a time, so a backlog in one installation holds one slot and never another's", async () => {
    for (const id of ["flood-1", "flood-2", "flood-3"]) await outbox.record(subject(id, 7), id, PRIORITY.normal);
    clock += 10;
    await outbox.record(subject("quiet", 8), "quiet", PRIORITY.normal);
    const otherStore = await location.open();
    onTestFinished(() => otherStore.close());
    const other = new GitHubOutbox(otherStore, () => clock);

    const first = (await outbox.claimNext("replica-1", LEASE))!;
    expect(first.key).toBe("deployment:flood-1");
    // Neither this replica nor another takes a second subject of installation 7 while one is out: the quiet one goes.
    expect((await other.claimNext("replica-2", LEASE))?.key).toBe("deployment:quiet");
    expect(await outbox.claimNext("replica-1", LEASE)).toBeUndefined();
    await outbox.complete(first);
    expect((await other.claimNext("replica-2", LEASE))?.key).toBe("deployment:flood-2");
    // A claimer that died holds its installation only until its lease runs out.
    clock += LEASE + 1;
    expect((await outbox.claimNext("replica-1", LEASE))?.key).toMatch(/^deployment:flood-[23]$/);
  });

  it("holds every subject of an installation GitHub told to wait, on every replica, until the time it gave; others go on", async () => {
    await outbox.record(subject("a", 7), "a", PRIORITY.trafficMoved);
    await outbox.record(subject("b", 8), "b", PRIORITY.normal);
    await outbox.blockInstallation(7, clock + 60_000, "secondary rate limit");
    // An earlier block arriving late does not shorten it.
    await outbox.blockInstallation(7, clock + 1_000, "secondary rate limit");
    expect((await outbox.claimNext("replica-1", LEASE))?.key).toBe("deployment:b");
    clock += 59_999;
    expect(await outbox.claimNext("replica-1", LEASE)).toBeUndefined();
    clock += 1;
    expect((await outbox.claimNext("replica-1", LEASE))?.key).toBe("deployment:a");
  });

  it("passes over the installations this replica's pacing holds back", async () => {
    await outbox.record(subject("a", 7), "a", PRIORITY.trafficMoved);
    await outbox.record(subject("b", 8), "b", PRIORITY.normal);
    expect((await outbox.claimNext("replica-1", LEASE, [7]))?.key).toBe("deployment:b");
    expect((await outbox.claimNext("replica-1", LEASE, []))?.key).toBe("deployment:a");
  });

  it("waits until the retry time (a backoff or GitHub's Retry-After), even when newer changes arrive", async () => {
    await outbox.record(subject("a"), "a1", PRIORITY.normal);
    const claim = (await outbox.claimNext("replica-1", LEASE))!;
    await outbox.retry(claim, clock + 30_000, "GitHub answered 403");
    await outbox.record(subject("a"), "a2", PRIORITY.trafficMoved);
    clock += 29_999;
    expect(await outbox.claimNext("replica-1", LEASE)).toBeUndefined();
    clock += 1;
    expect(await outbox.claimNext("replica-1", LEASE)).toMatchObject({ changes: ["a1", "a2"], attempts: 2 });
  });

  it("never claims a subject with nothing pending", async () => {
    await outbox.record(subject("a"), "a1", PRIORITY.normal);
    await outbox.complete((await outbox.claimNext("replica-1", LEASE))!);
    expect(await outbox.claimNext("replica-1", LEASE)).toBeUndefined();
  });
});

describe("what the drain does when GitHub refuses a write", () => {
  const NOW = 1_000_000;
  const failure = (status: number, headers: Record<string, string> = {}) => Object.assign(new Error(`HTTP ${status}`), { status, response: { headers } });

  it("waits as long as GitHub's Retry-After says (secondary rate limit)", () => {
    expect(decideRetry(failure(403, { "retry-after": "60" }), 1, NOW)).toEqual({ retryAt: NOW + 60_000 });
    expect(decideRetry(failure(429, { "retry-after": "5" }), 1, NOW)).toEqual({ retryAt: NOW + 5_000 });
  });

  it("waits for the primary rate limit's reset when none is left", () => {
    const reset = NOW / 1_000 + 120;
    expect(decideRetry(failure(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) }), 1, NOW)).toEqual({ retryAt: reset * 1_000 });
  });

  it("backs off exponentially on a server error or a lost connection", () => {
    const half = () => 0.5;
    expect(decideRetry(failure(502), 1, NOW, half)).toEqual({ retryAt: NOW + 1_000 });
    expect(decideRetry(failure(502), 4, NOW, half)).toEqual({ retryAt: NOW + 8_000 });
    expect(decideRetry(new Error("socket hang up"), 2, NOW, half)).toEqual({ retryAt: NOW + 2_000 });
  });

  it("drops a write GitHub will never accept (gone, forbidden, invalid)", () => {
    for (const status of [403, 404, 410, 422]) expect(decideRetry(failure(status), 1, NOW)).toHaveProperty("drop");
  });
});
