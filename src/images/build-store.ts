import { randomUUID } from "node:crypto";
import type { Selectable, Updateable } from "kysely";
import { z } from "zod";
import type { Store } from "../store/open-store.ts";
import type { ImageBuildTable } from "../store/schema.ts";
import { buildRefSchema, type BuildRef } from "./image-builder.ts";

export type ImageBuildRow = Selectable<ImageBuildTable>;

/** A request for the image of one commit in one ECR repository. */
export interface ImageRequest {
  repo: { owner: string; repo: string; id: number; installationId: number };
  sha: string;
  ecrRepository: string;
  dockerfile: string;
  context: string;
}

/** What the `gantry/image` check run and the deploy step are told of a build. */
export const imageBuildViewSchema = z.object({
  id: z.string(),
  repo: z.object({ owner: z.string(), repo: z.string(), installationId: z.number().int() }),
  sha: z.string(),
  ecrRepository: z.string(),
  status: z.enum(["requested", "building", "succeeded", "failed"]),
  /** `existing` when ECR already held the tag: nothing was built. */
  builder: z.string().nullable(),
  digest: z.string().nullable(),
  reason: z.string().nullable(),
  logsUrl: z.string().nullable(),
  /** From the builder's start to the image being in ECR. */
  durationMs: z.number().nullable(),
  updatedAt: z.number(),
});
export type ImageBuildView = z.infer<typeof imageBuildViewSchema>;

export function buildRefOf(row: ImageBuildRow): BuildRef | null {
  return row.build_ref === null ? null : buildRefSchema.parse(JSON.parse(row.build_ref));
}

export function toImageBuildView(row: ImageBuildRow, now: number): ImageBuildView {
  const started = row.started_at === null ? null : Number(row.started_at);
  const finished = row.finished_at === null ? null : Number(row.finished_at);
  return {
    id: row.id,
    repo: { owner: row.owner, repo: row.repo, installationId: Number(row.installation_id) },
    sha: row.sha,
    ecrRepository: row.ecr_repository,
    status: row.status,
    builder: row.builder,
    digest: row.digest,
    reason: row.reason,
    logsUrl: buildRefOf(row)?.logsUrl ?? null,
    durationMs: started !== null && finished !== null ? finished - started : null,
    updatedAt: now,
  };
}

export interface BuildClaim {
  row: ImageBuildRow;
  claimToken: string;
}

/** Called inside the transaction that saves a build's change, so the change and what it reports are kept together. */
export type RecordChange = (row: ImageBuildRow, within: Store["db"]) => Promise<void>;

/**
 * The image builds: one row per commit and ECR repository (unique), which is the lock that keeps a
 * commit from being built twice at once, on every replica. A row that needs work (a requested build,
 * one to follow) is claimed with a lease and a token, as the outbox claims its subjects; a replica
 * that dies holding one loses it when the lease ends, and the next claimer follows the same build.
 */
export class ImageBuildStore {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  get now(): number {
    return this.#now();
  }

  /**
   * The build of the commit, asked for now if there is none. A failed one that ended before
   * `retryFailedBefore` is asked for again (a new id, so a new build); one that ended since is the
   * answer. `recorded` is true when this call asked for a build.
   */
  async request(request: ImageRequest, retryFailedBefore: number, record?: RecordChange): Promise<{ row: ImageBuildRow; recorded: boolean }> {
    const now = this.#now();
    return this.#store.db.transaction().execute(async (trx) => {
      const fresh = {
        id: randomUUID(),
        status: "requested" as const,
        builder: null,
        build_ref: null,
        digest: null,
        reason: null,
        failures: 0,
        requested_at: now,
        started_at: null,
        finished_at: null,
        next_check_at: now,
        claim_token: null,
        lease_owner: null,
        check_run_id: null,
        check_run_sent: null,
      };
      const inserted = await trx
        .insertInto("image_builds")
        .values({
          ...fresh,
          ecr_repository: request.ecrRepository,
          sha: request.sha,
          owner: request.repo.owner,
          repo: request.repo.repo,
          repository_id: request.repo.id,
          installation_id: request.repo.installationId,
          dockerfile: request.dockerfile,
          context: request.context,
        })
        .onConflict((conflict) => conflict.columns(["ecr_repository", "sha"]).doNothing())
        .executeTakeFirst();
      let recorded = Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
      if (!recorded) {
        const retried = await trx
          .updateTable("image_builds")
          .set({ ...fresh, dockerfile: request.dockerfile, context: request.context, installation_id: request.repo.installationId })
          .where("ecr_repository", "=", request.ecrRepository)
          .where("sha", "=", request.sha)
          .where("status", "=", "failed")
          .where("finished_at", "<", retryFailedBefore)
          .executeTakeFirst();
        recorded = Number(retried.numUpdatedRows) === 1;
      }
      const row = await trx
        .selectFrom("image_builds")
        .selectAll()
        .where("ecr_repository", "=", request.ecrRepository)
        .where("sha", "=", request.sha)
        .executeTakeFirstOrThrow();
      if (recorded && record) await record(row, trx);
      return { row, recorded };
    });
  }

  async find(ecrRepository: string, sha: string): Promise<ImageBuildRow | undefined> {
    return this.#store.db.selectFrom("image_builds").selectAll().where("ecr_repository", "=", ecrRepository).where("sha", "=", sha).executeTakeFirst();
  }

  async get(id: string): Promise<ImageBuildRow | undefined> {
    return this.#store.db.selectFrom("image_builds").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** The build most overdue for a look (to start, or to follow), for `leaseMs`. */
  async claimNext(owner: string, leaseMs: number): Promise<BuildClaim | undefined> {
    const now = this.#now();
    const claimToken = randomUUID();
    const claimed = await this.#store.db
      .updateTable("image_builds")
      .set({ claim_token: claimToken, lease_owner: owner, next_check_at: now + leaseMs })
      .where("id", "=", (eb) =>
        this.#store.lockForClaim(
          eb
            .selectFrom("image_builds")
            .select("id")
            .where("status", "in", ["requested", "building"])
            .where("next_check_at", "<=", now)
            .orderBy("next_check_at")
            .limit(1),
        ),
      )
      .where("next_check_at", "<=", now)
      .returningAll()
      .executeTakeFirst();
    return claimed && { row: claimed, claimToken };
  }

  /**
   * Saves what one look found and releases the claim; false when the claim was lost (its lease ran
   * out and another replica took the build over), in which case nothing is written.
   */
  async save(claim: BuildClaim, change: Updateable<ImageBuildTable>, record?: RecordChange): Promise<boolean> {
    return this.#store.db.transaction().execute(async (trx) => {
      const saved = await trx
        .updateTable("image_builds")
        .set({ ...change, claim_token: null, lease_owner: null })
        .where("id", "=", claim.row.id)
        .where("claim_token", "=", claim.claimToken)
        .returningAll()
        .executeTakeFirst();
      if (!saved) return false;
      if (record && saved.status !== claim.row.status) await record(saved, trx);
      return true;
    });
  }

  /** What the check run sender stored: the check run's id and what it last showed. */
  async noteCheckRun(id: string, checkRunId: number, sent: string): Promise<void> {
    await this.#store.db.updateTable("image_builds").set({ check_run_id: checkRunId, check_run_sent: sent }).where("id", "=", id).execute();
  }
}
