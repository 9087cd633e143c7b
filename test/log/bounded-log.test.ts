import { afterEach, describe, expect, it } from "vitest";
import type { RunningGantry } from "../../src/gantry.ts";
import { boundedLog, cutText, MAX_LOG_LINE_CHARS } from "../../src/log/bounded-log.ts";
import { startTestGantry } from "../support/gantry.ts";
import { examplePayload, signedDelivery } from "../support/payloads.ts";
import { TEST_WEBHOOK_SECRET } from "../support/probot.ts";

/** A logger at `level` that keeps its lines. */
function capturedLog(level: string) {
  const lines: string[] = [];
  return { lines, log: boundedLog(level, { write: (line: string) => void lines.push(line) }) };
}

describe("log lines from the webhook path", () => {
  const running: RunningGantry[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((gantry) => gantry.stop()));
  });

  it("never carry a whole payload: a failing 1 MB delivery is logged by id, event, size and a cut error", async () => {
    const { lines, log } = capturedLog("debug");
    const gantry = await startTestGantry(
      (probot) => {
        probot.on("issue_comment", async (context) => {
          // Like a validation error that quotes its input.
          throw new Error(`cannot handle ${JSON.stringify(context.payload)}`);
        });
      },
      {},
      { log },
    );
    running.push(gantry);
    const secret = "SECRET-USER-TEXT-".repeat(60_000);
    const payload = { ...examplePayload<Record<string, unknown>>("issue_comment", (candidate) => candidate.action === "created"), note: secret };
    const delivery = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", payload, "big-failure");
    expect((await fetch(`${gantry.url}/api/github/webhooks`, { method: "POST", headers: delivery.headers, body: delivery.body })).status).toBe(202);
    for (let i = 0; i < 200 && !lines.some((line) => line.includes("will retry")); i += 1) await new Promise((resolve) => setTimeout(resolve, 25));

    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.length).toBeLessThanOrEqual(MAX_LOG_LINE_CHARS);
      expect(line).not.toContain("SECRET-USER-TEXT-".repeat(100));
      JSON.parse(line);
    }
    const failure = JSON.parse(lines.find((line) => line.includes("will retry"))!) as Record<string, unknown> & { err: { message: string } };
    expect(failure).toMatchObject({ delivery: "big-failure", event: "issue_comment", attempt: 1, size: Buffer.byteLength(delivery.body) });
    expect(failure.err.message).toMatch(/^cannot handle \{.*…$/);
    const [row] = await gantry.store.db.selectFrom("webhook_deliveries").select("last_error").execute();
    expect(row!.last_error!.length).toBeLessThanOrEqual(2_000);
  });

  it("cuts any line over the cap, keeping its short fields", () => {
    const { lines, log } = capturedLog("info");
    log.info({ delivery: "d-1", event: "push", body: { text: "y".repeat(50_000) } }, "z".repeat(10_000));
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(lines[0]!.length).toBeLessThanOrEqual(MAX_LOG_LINE_CHARS);
    expect(line).toMatchObject({ delivery: "d-1", event: "push", cut: expect.stringContaining("cut to fit") });
    expect(line.body).toBeUndefined();
    expect((line.msg as string).length).toBeLessThanOrEqual(300);
  });

  it("cuts text on a character boundary", () => {
    expect(cutText("short", 10)).toBe("short");
    expect(cutText("abcdefghij", 5)).toBe("abcd…");
    const cut = cutText("abc😀😀", 5);
    expect(cut).toBe("abc…");
    expect(cut.length).toBeLessThanOrEqual(5);
  });
});
