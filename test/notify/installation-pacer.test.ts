import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { GITHUB_WRITE_LIMITS, InstallationPacer, PacedError, type WriteLimit } from "../../src/notify/installation-pacer.ts";
import type { Store } from "../../src/store/open-store.ts";
import { nockInstallationToken } from "../support/github-fixtures.ts";
import { githubNock } from "../support/github-nock.ts";
import { TEST_INSTALLATION_ID, testProbot } from "../support/probot.ts";
import { storeBackends } from "../support/stores.ts";

describe.each(storeBackends)("pacing of GitHub writes per installation, counted on $name", (backend) => {
  const opened: Store[] = [];
  afterEach(async () => {
    nock.cleanAll();
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  async function opening(location?: Awaited<ReturnType<typeof backend.location>>) {
    const store = await (location ?? (await backend.location())).open();
    opened.push(store);
    return store;
  }

  /** A pacer on a clock the test moves; sleeping moves it. */
  async function pacerOnClock(limits: readonly WriteLimit[] = GITHUB_WRITE_LIMITS) {
    const clock = { now: 0, slept: [] as number[] };
    const pacer = new InstallationPacer(await opening(), {
      limits,
      now: () => clock.now,
      sleep: async (ms) => {
        clock.slept.push(ms);
        clock.now += ms;
      },
    });
    return { clock, pacer };
  }

  it("lets 80 writes a minute through, then holds the 81st until the first leaves the minute", async () => {
    const { clock, pacer } = await pacerOnClock();
    for (let write = 0; write < 80; write += 1) {
      await pacer.take(1);
      clock.now += 10;
    }
    expect(clock.slept).toEqual([]);
    expect(await pacer.waiting()).toEqual([1]);
    await pacer.take(1);
    expect(clock.now).toBe(60_000);
  });

  it("when stopped, gives up a write waiting for its slot, and any later one that would wait, naming the slot", async () => {
    const pacer = new InstallationPacer(await opening(), { limits: [{ max: 1, perMs: 60_000 }] });
    await pacer.take(1);
    const slot = await pacer.nextSlot(1);
    const waiting = pacer.take(1);
    pacer.stop();
    await expect(waiting).rejects.toMatchObject({ name: "PacedError", until: slot });
    await expect(pacer.take(1)).rejects.toMatchObject({ name: "PacedError", until: slot });
    // An installation with a free slot still sends.
    await pacer.take(2);
  });

  it("holds an installation at 500 writes an hour even when no minute is full", async () => {
    const { clock, pacer } = await pacerOnClock();
    for (let write = 0; write < 500; write += 1) {
      await pacer.take(1);
      clock.now += 1_000;
    }
    expect(clock.now).toBe(500_000);
    // The first write leaves the hour's window at 3,600,000 ms: the drain passes the installation over till then.
    expect(await pacer.nextSlot(1)).toBe(3_600_000);
    expect(await pacer.waiting()).toEqual([1]);
    clock.now = 3_600_000;
    await pacer.take(1);
    expect(clock.slept).toEqual([]);
  }, 60_000);

  it("never holds one installation for another's writes", async () => {
    const { clock, pacer } = await pacerOnClock([{ max: 2, perMs: 60_000 }]);
    await pacer.take(1);
    await pacer.take(1);
    expect(await pacer.waiting()).toEqual([1]);
    await pacer.take(2);
    expect(clock.slept).toEqual([]);
  });

  it("counts the writes an Octokit sends, not its reads", async () => {
    const gh = githubNock();
    nockInstallationToken(gh);
    gh.get("/repos/acme/web/issues/1/comments").times(3).reply(200, []);
    gh.post("/repos/acme/web/issues/1/comments").times(2).reply(201, { id: 1 });
    const { clock, pacer } = await pacerOnClock([{ max: 1, perMs: 60_000 }]);
    const octokit = pacer.pace(await testProbot().auth(TEST_INSTALLATION_ID), TEST_INSTALLATION_ID);
    for (let read = 0; read < 3; read += 1) await octokit.rest.issues.listComments({ owner: "acme", repo: "web", issue_number: 1 });
    expect(clock.slept).toEqual([]);
    await octokit.rest.issues.createComment({ owner: "acme", repo: "web", issue_number: 1, body: "one" });
    await octokit.rest.issues.createComment({ owner: "acme", repo: "web", issue_number: 1, body: "two" });
    expect(clock.slept).toEqual([60_000]);
  });

  it("does not wait for a slot too far off while a claim is held: the pacer says when instead", async () => {
    const clock = { now: 0 };
    const pacer = new InstallationPacer(await opening(), { limits: [{ max: 1, perMs: 3_600_000 }], now: () => clock.now, sleep: async () => {}, maxWaitMs: 60_000 });
    await pacer.take(1);
    await expect(pacer.take(1)).rejects.toMatchObject({ name: "PacedError", until: 3_600_000 });
  });

  it("is one count for every replica on the store: two replicas writing at once get the window's writes in all, then wait", async () => {
    const location = await backend.location();
    const clock = { now: 0 };
    const limits = [{ max: 5, perMs: 60_000 }];
    const replicas = [await opening(location), await opening(location)].map(
      (store) => new InstallationPacer(store, { limits, now: () => clock.now, sleep: async () => {}, maxWaitMs: 1_000 }),
    );
    const takes = await Promise.allSettled(Array.from({ length: 12 }, (_, index) => replicas[index % 2]!.take(1)));
    expect(takes.filter((take) => take.status === "fulfilled")).toHaveLength(5);
    for (const take of takes.filter((candidate) => candidate.status === "rejected")) {
      expect(take.reason).toBeInstanceOf(PacedError);
      expect(take.reason).toMatchObject({ until: 60_000 });
    }
    // Each replica passes the installation over, whichever sent its writes.
    expect(await replicas[0]!.waiting()).toEqual([1]);
    expect(await replicas[1]!.waiting()).toEqual([1]);
    // Once the first writes leave the minute, the window has room for five more, again in all.
    clock.now = 60_000;
    for (let write = 0; write < 5; write += 1) await replicas[write % 2]!.take(1);
    await expect(replicas[1]!.take(1)).rejects.toMatchObject({ name: "PacedError", until: 120_000 });
  });

  it("forgets writes that have left every window, but keeps each installation's latest for the numbering", async () => {
    const store = await opening();
    const clock = { now: 0 };
    const pacer = new InstallationPacer(store, { limits: [{ max: 3, perMs: 60_000 }], now: () => clock.now, sleep: async () => {} });
    for (let write = 0; write < 3; write += 1) await pacer.take(1);
    clock.now = 61_000;
    await pacer.take(1);
    const kept = await store.db.selectFrom("github_writes").select(["seq", "sent_at"]).where("installation_id", "=", 1).orderBy("seq").execute();
    expect(kept).toEqual([
      { seq: 3, sent_at: 0 },
      { seq: 4, sent_at: 61_000 },
    ]);
  });
});
