import { afterEach, describe, expect, it } from "vitest";
import { claimComment } from "../../src/commands/comment-claims.ts";
import type { Store } from "../../src/store/open-store.ts";
import { storeBackends } from "../support/stores.ts";

describe.each(storeBackends)("comment claims on $name", (backend) => {
  const opened: Store[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  it("lets exactly one of two replicas claim a comment, however the attempts interleave", async () => {
    const location = await backend.location();
    // Opened one after the other: each runs the migrations at start-up.
    const replicas = [await location.open(), await location.open()];
    opened.push(...replicas);
    const claim = { commentId: 4_200_000_001, repository: "acme/web", at: 1 };

    const attempts = await Promise.all([...replicas, ...replicas].map((store) => claimComment(store, claim)));
    expect(attempts.filter(Boolean)).toHaveLength(1);
    expect(await claimComment(replicas[0]!, { ...claim, commentId: 4_200_000_002 })).toBe(true);
  });
});
