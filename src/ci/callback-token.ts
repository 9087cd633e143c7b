import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

export interface ShardClaim {
  shardId: string;
  attempt: number;
  /** Epoch ms after which the token is refused. */
  expiresAt: number;
}

/**
 * Short-lived tokens for the shard runner's callbacks: an HMAC of (shard, attempt, expiry) under the
 * server's secret, so a token is good for one shard's one attempt, until it expires. A token for
 * another shard, an earlier attempt, a changed field or another server's secret is refused.
 */
export class CallbackTokens {
  readonly #key: Buffer;
  readonly #now: () => number;

  constructor(secret: string, now: () => number = Date.now) {
    this.#key = Buffer.from(hkdfSync("sha256", secret, "gantry", "gantry/ci-callback", 32));
    this.#now = now;
  }

  sign(claim: ShardClaim): string {
    const body = Buffer.from(JSON.stringify([claim.shardId, claim.attempt, claim.expiresAt])).toString("base64url");
    return `${body}.${this.#mac(body)}`;
  }

  /** The claim, when the token is ours, unexpired and names `shardId`; undefined otherwise. */
  verify(token: string, shardId: string): ShardClaim | undefined {
    const [body = "", mac = "", extra] = token.split(".");
    if (extra !== undefined || !body || !mac) return undefined;
    const expected = Buffer.from(this.#mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    } catch {
      return undefined;
    }
    if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
    const [claimedShard, attempt, expiresAt] = parsed as unknown[];
    if (claimedShard !== shardId || typeof attempt !== "number" || typeof expiresAt !== "number" || expiresAt < this.#now()) return undefined;
    return { shardId, attempt, expiresAt };
  }

  /** A capability for reading one shard attempt's log (the check run's link): no expiry, nothing else. */
  logSignature(shardId: string, attempt: number): string {
    return this.#mac(`log:${shardId}:${attempt}`);
  }

  verifyLogSignature(shardId: string, attempt: number, signature: string): boolean {
    const expected = Buffer.from(this.logSignature(shardId, attempt));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #mac(text: string): string {
    return createHmac("sha256", this.#key).update(text).digest("base64url");
  }
}
