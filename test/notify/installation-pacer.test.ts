import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { GITHUB_WRITE_LIMITS, InstallationPacer } from "../../src/notify/installation-pacer.ts";
import { nockInstallationToken } from "../support/github-fixtures.ts";
import { githubNock } from "../support/github-nock.ts";
import { TEST_INSTALLATION_ID, testProbot } from "../support/probot.ts";

/** A pacer on a clock the test moves; sleeping moves it. */
function pacerOnClock(limits = GITHUB_WRITE_LIMITS) {
  const clock = { now: 0, slept: [] as number[] };
  const pacer = new InstallationPacer({
    limits,
    now: () => clock.now,
    sleep: async (ms) => {
      clock.slept.push(ms);
      clock.now += ms;
    },
  });
  return { clock, pacer };
}

describe("pacing of GitHub writes per installation", () => {
  afterEach(() => {
    nock.cleanAll();
  });

  it("lets 80 writes a minute through, then holds the 81st until the first leaves the minute", async () => {
    const { clock, pacer } = pacerOnClock();
    for (let write = 0; write < 80; write += 1) {
      await pacer.take(1);
      clock.now += 10;
    }
    expect(clock.slept).toEqual([]);
    expect(pacer.waiting()).toEqual([1]);
    await pacer.take(1);
    expect(clock.now).toBe(60_000);
  });

  it("when stopped, gives up a write waiting for its slot, and any later one that would wait, naming the slot", async () => {
    const pacer = new InstallationPacer({ limits: [{ max: 1, perMs: 60_000 }] });
    await pacer.take(1);
    const slot = pacer.nextSlot(1);
    const waiting = pacer.take(1);
    pacer.stop();
    await expect(waiting).rejects.toMatchObject({ name: "PacedError", until: slot });
    await expect(pacer.take(1)).rejects.toMatchObject({ name: "PacedError", until: slot });
    // An installation with a free slot still sends.
    await pacer.take(2);
  });

  it("holds an installation at 500 writes an hour even when no minute is full", async () => {
    const { clock, pacer } = pacerOnClock();
    for (let write = 0; write < 500; write += 1) {
      await pacer.take(1);
      clock.now += 1_000;
    }
    expect(clock.now).toBe(500_000);
    // The first write leaves the hour's window at 3,600,000 ms: the drain passes the installation over till then.
    expect(pacer.nextSlot(1)).toBe(3_600_000);
    expect(pacer.waiting()).toEqual([1]);
    clock.now = 3_600_000;
    await pacer.take(1);
    expect(clock.slept).toEqual([]);
  });

  it("never holds one installation for another's writes", async () => {
    const { clock, pacer } = pacerOnClock([{ max: 2, perMs: 60_000 }]);
    await pacer.take(1);
    await pacer.take(1);
    expect(pacer.waiting()).toEqual([1]);
    await pacer.take(2);
    expect(clock.slept).toEqual([]);
  });

  it("counts the writes an Octokit sends, not its reads", async () => {
    const gh = githubNock();
    nockInstallationToken(gh);
    gh.get("/repos/acme/web/issues/1/comments").times(3).reply(200, []);
    gh.post("/repos/acme/web/issues/1/comments").times(2).reply(201, { id: 1 });
    const { clock, pacer } = pacerOnClock([{ max: 1, perMs: 60_000 }]);
    const octokit = pacer.pace(await testProbot().auth(TEST_INSTALLATION_ID), TEST_INSTALLATION_ID);
    for (let read = 0; read < 3; read += 1) await octokit.rest.issues.listComments({ owner: "acme", repo: "web", issue_number: 1 });
    expect(clock.slept).toEqual([]);
    await octokit.rest.issues.createComment({ owner: "acme", repo: "web", issue_number: 1, body: "one" });
    await octokit.rest.issues.createComment({ owner: "acme", repo: "web", issue_number: 1, body: "two" });
    expect(clock.slept).toEqual([60_000]);
  });
});

describe("a write whose slot is too far off", () => {
  it("is not waited for while a claim is held: the pacer says when instead", async () => {
    const clock = { now: 0 };
    const pacer = new InstallationPacer({ limits: [{ max: 1, perMs: 3_600_000 }], now: () => clock.now, sleep: async () => {}, maxWaitMs: 60_000 });
    await pacer.take(1);
    await expect(pacer.take(1)).rejects.toMatchObject({ name: "PacedError", until: 3_600_000 });
  });
});
