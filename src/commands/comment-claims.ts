import type { Store } from "../store/open-store.ts";

/**
 * Claims a comment before Gantry acts on it. The primary key makes the claim atomic on both backends,
 * so a redelivered webhook or a second replica gets `false` and does nothing. At most once, by
 * choice: a command lost to a crash is typed again; a deploy run twice cannot be taken back.
 */
export async function claimComment(store: Store, claim: { commentId: number; repository: string; at: number }): Promise<boolean> {
  const inserted = await store.db
    .insertInto("command_claims")
    .values({ comment_id: claim.commentId, repository: claim.repository, claimed_at: claim.at })
    .onConflict((conflict) => conflict.column("comment_id").doNothing())
    .returning("comment_id")
    .executeTakeFirst();
  return inserted !== undefined;
}
