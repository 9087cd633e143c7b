import type { Selectable } from "kysely";
import type { Store } from "../store/open-store.ts";
import type { EnvironmentDriftTable } from "../store/schema.ts";
import { weightsSchema, type DriftView, type RepoRef, type Weights } from "./api.ts";

export interface DriftReading {
  repo: Pick<RepoRef, "owner" | "repo">;
  environment: string;
  /** The deployment whose weights Gantry last set there. */
  deploymentId: string;
  expected: Weights;
  observed: Weights;
}

/** `new`: drift not seen before (recorded once, however many replicas watch); `changed`: open drift, other weights now. */
export type ObserveOutcome = "new" | "changed" | "unchanged";

/** The latest drift of each environment: open until a person acknowledges it or an admin deploys over it. */
export class DriftStore {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  async find(repo: Pick<RepoRef, "owner" | "repo">, environment: string): Promise<DriftView | undefined> {
    const row = await this.#store.db
      .selectFrom("environment_drift")
      .selectAll()
      .where("owner", "=", repo.owner)
      .where("repo", "=", repo.repo)
      .where("environment", "=", environment)
      .executeTakeFirst();
    return row && driftView(row);
  }

  async ofRepo(repo: Pick<RepoRef, "owner" | "repo">): Promise<DriftView[]> {
    const rows = await this.#store.db.selectFrom("environment_drift").selectAll().where("owner", "=", repo.owner).where("repo", "=", repo.repo).execute();
    return rows.map(driftView);
  }

  async ofDeployment(deploymentId: string): Promise<DriftView | undefined> {
    const row = await this.#store.db.selectFrom("environment_drift").selectAll().where("deployment_id", "=", deploymentId).executeTakeFirst();
    return row && driftView(row);
  }

  /**
   * Records a reading that differs from what Gantry set. It is new drift unless the environment's
   * row already holds drift against the same deployment that is still open, or was acknowledged at
   * these very weights. Decided in one statement, so two replicas never both report it as new.
   */
  async observe(reading: DriftReading): Promise<ObserveOutcome> {
    const now = this.#now();
    const observed = weightsJson(reading.observed);
    const fresh = {
      owner: reading.repo.owner,
      repo: reading.repo.repo,
      environment: reading.environment,
      deployment_id: reading.deploymentId,
      expected: weightsJson(reading.expected),
      observed,
      detected_at: now,
      observed_at: now,
      resolution: null,
      resolved_by: null,
      resolved_at: null,
      note: null,
    };
    const { owner, repo, environment, ...replaced } = fresh;
    const inserted = await this.#store.db
      .insertInto("environment_drift")
      .values(fresh)
      .onConflict((conflict) =>
        conflict
          .columns(["owner", "repo", "environment"])
          .doUpdateSet(replaced)
          .where((eb) =>
            eb.or([
              eb("environment_drift.deployment_id", "!=", eb.ref("excluded.deployment_id")),
              eb.and([eb("environment_drift.resolution", "is not", null), eb("environment_drift.observed", "!=", eb.ref("excluded.observed"))]),
            ]),
          ),
      )
      .returning("detected_at")
      .executeTakeFirst();
    if (inserted) return "new";
    const changed = await this.#store.db
      .updateTable("environment_drift")
      .set({ observed, observed_at: now })
      .where("owner", "=", owner)
      .where("repo", "=", repo)
      .where("environment", "=", environment)
      .where("deployment_id", "=", reading.deploymentId)
      .where("resolution", "is", null)
      .where("observed", "!=", observed)
      .executeTakeFirst();
    return Number(changed.numUpdatedRows) > 0 ? "changed" : "unchanged";
  }

  /** Closes the environment's open drift; undefined when there is none. */
  async resolve(
    repo: Pick<RepoRef, "owner" | "repo">,
    environment: string,
    resolution: { kind: "acknowledged" | "forced"; by: string; note: string | null },
  ): Promise<DriftView | undefined> {
    const row = await this.#store.db
      .updateTable("environment_drift")
      .set({ resolution: resolution.kind, resolved_by: resolution.by, resolved_at: this.#now(), note: resolution.note })
      .where("owner", "=", repo.owner)
      .where("repo", "=", repo.repo)
      .where("environment", "=", environment)
      .where("resolution", "is", null)
      .returningAll()
      .executeTakeFirst();
    return row && driftView(row);
  }
}

/** Weights in the words of drift messages. */
export function splitText(weights: Weights): string {
  return `blue ${weights.blue}% / green ${weights.green}%`;
}

/** One spelling per weights, so equal weights compare equal as text in SQL. */
function weightsJson(weights: Weights): string {
  return JSON.stringify({ blue: weights.blue, green: weights.green });
}

function driftView(row: Selectable<EnvironmentDriftTable>): DriftView {
  return {
    environment: row.environment,
    deploymentId: row.deployment_id,
    expected: weightsSchema.parse(JSON.parse(row.expected)),
    observed: weightsSchema.parse(JSON.parse(row.observed)),
    detectedAt: row.detected_at,
    observedAt: row.observed_at,
    resolution: row.resolution,
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at,
    note: row.note,
  };
}
