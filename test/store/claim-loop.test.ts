import { describe, expect, it } from "vitest";
import { ClaimLoop } from "../../src/store/claim-loop.ts";
import { silentLog } from "../support/probot.ts";

describe("the claim loop", () => {
  it("claims again at once when woken while a claim was running, instead of sleeping its poll interval", async () => {
    // Work is recorded, and the loop woken, while a claim that did not see it is still running.
    let recorded = false;
    let claims = 0;
    const handled: string[] = [];
    const loop: ClaimLoop<string> = new ClaimLoop<string>({
      name: "test",
      log: silentLog,
      concurrency: 1,
      // An hour: only a wake gets the work claimed within the test's timeout.
      pollMs: 3_600_000,
      claim: async () => {
        claims += 1;
        if (recorded) {
          recorded = false;
          return "work";
        }
        if (claims === 1) {
          recorded = true;
          loop.wake();
        }
        return undefined;
      },
      handle: async (item) => {
        handled.push(item);
      },
    });
    loop.start();
    try {
      await expect.poll(() => handled, { timeout: 10_000 }).toEqual(["work"]);
    } finally {
      await loop.stop();
    }
  });
});
