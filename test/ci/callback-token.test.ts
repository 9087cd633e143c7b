import { describe, expect, it } from "vitest";
import { CallbackTokens } from "../../src/ci/callback-token.ts";

describe("shard callback tokens", () => {
  const now = 1_000_000;
  const tokens = new CallbackTokens("a-server-secret-of-enough-length-000", () => now);
  const claim = { shardId: "shard-a", attempt: 2, expiresAt: now + 60_000 };

  it("verifies a token for the shard it was signed for", () => {
    expect(tokens.verify(tokens.sign(claim), "shard-a")).toEqual(claim);
  });

  it("refuses another shard's token, an expired one, one from another secret, and any edited byte", () => {
    const token = tokens.sign(claim);
    expect(tokens.verify(token, "shard-b")).toBeUndefined();
    expect(tokens.verify(tokens.sign({ ...claim, expiresAt: now - 1 }), "shard-a")).toBeUndefined();
    expect(tokens.verify(new CallbackTokens("another-server-secret-of-length-0000", () => now).sign(claim), "shard-a")).toBeUndefined();
    const [body, mac] = token.split(".");
    const forgedBody = Buffer.from(JSON.stringify(["shard-a", 3, now + 60_000])).toString("base64url");
    for (const edited of [`${forgedBody}.${mac}`, `${body}.${mac!.slice(0, -1)}A`, `${body}`, `${body}.${mac}.x`, "", "..", `${body}.`]) {
      expect(tokens.verify(edited, "shard-a")).toBeUndefined();
    }
  });

  it("signs log links for one shard attempt", () => {
    const signature = tokens.logSignature("shard-a", 1);
    expect(tokens.verifyLogSignature("shard-a", 1, signature)).toBe(true);
    expect(tokens.verifyLogSignature("shard-a", 2, signature)).toBe(false);
    expect(tokens.verifyLogSignature("shard-b", 1, signature)).toBe(false);
    expect(tokens.verifyLogSignature("shard-a", 1, "")).toBe(false);
  });
});
