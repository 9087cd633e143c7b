import { sql, type ExpressionBuilder, type Selectable } from "kysely";
import { z } from "zod";
import type { Store } from "../store/open-store.ts";
import type { Database, DeploymentTable, EnvironmentLockTable, OldColourHolder } from "../store/schema.ts";
import { approvalSchema, TERMINAL_PHASES, type Approval, type DeploymentView, type LockView, type Phase, type RepoRef } from "./api.ts";
import {
  deploymentStateSchema,
  pendingActionSchema,
  toView,
  type Deployment,
  type DeploymentState,
  type PendingAction,
} from "./deployment-state.ts";
import { DriftStore } from "./drift-store.ts";

/** Phases that no longer hold the environment: a cooling deployment only waits to scale down. */
export const LOCK_FREE_PHASES: ReadonlySet<Phase> = new Set([...TERMINAL_PHASES, "cooling"]);
const TERMINAL = [...TERMINAL_PHASES];

export interface Lease {
  owner: string;
  fence: number;
}

export interface DeploymentChange {
  phase: Phase;
  state: DeploymentState;
  nextTickAt: number;
  /** The pending action this tick acted on, cleared with the save. */
  consumed?: PendingAction | null;
  /** For an ended deployment: when to read its final weights back, or null once that is done. */
  finalCheckAt?: number | null;
}

/** How long claims hold, and when a replica counts as dead (see lease-timing.ts). */
export interface ClaimTiming {
  leaseMs: number;
  heartbeatStaleMs: number;
}

/** A rollback, or a person's /rollback or /abort, goes ahead of every other due deployment. */
const URGENCY = sql<number>`case when phase = 'rolling-back' or pending_action like '%"kind":"rollback"%' or pending_action like '%"kind":"abort"%' then 0 else 1 end`;

/** Persistence of deployments and environment locks, fenced so a replica that lost its lease cannot write. */
export class DeploymentStore {
  readonly #store: Store;
  readonly #now: () => number;
  /** Drift found in the environments these deployments set the weights of. */
  readonly drifts: DriftStore;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
    this.drifts = new DriftStore(store, now);
  }

  get now(): number {
    return this.#now();
  }

  /** Writes a new deployment; false when one with the same idempotency key already exists. */
  async insert(deployment: Deployment, idempotencyKey: string | null = null): Promise<boolean> {
    const inserted = await this.#store.db
      .insertInto("deployments")
      .values({
        id: deployment.id,
        owner: deployment.repo.owner,
        repo: deployment.repo.repo,
        installation_id: deployment.repo.installationId,
        environment: deployment.environment,
        sha: deployment.sha,
        phase: deployment.phase,
        requested_by: deployment.requestedBy,
        pull_request: deployment.pullRequest,
        state: JSON.stringify(deployment.state),
        pending_action: null,
        next_tick_at: deployment.nextTickAt,
        lease_owner: null,
        created_at: deployment.createdAt,
        updated_at: deployment.updatedAt,
        idempotency_key: idempotencyKey,
      })
      .onConflict((conflict) => conflict.column("idempotency_key").doNothing())
      .returning("id")
      .executeTakeFirst();
    return inserted !== undefined;
  }

  /** The deployment a command created, found by the key it was created with. */
  async byIdempotencyKey(key: string): Promise<Deployment | undefined> {
    const row = await this.#store.db.selectFrom("deployments").selectAll().where("idempotency_key", "=", key).executeTakeFirst();
    return row && fromRow(row);
  }

  async get(id: string): Promise<Deployment | undefined> {
    const row = await this.#store.db.selectFrom("deployments").selectAll().where("id", "=", id).executeTakeFirst();
    return row && fromRow(row);
  }

  /** The deployment as people see it, with any drift found against the weights it set. */
  async view(id: string): Promise<DeploymentView | undefined> {
    const [deployment, drift] = await Promise.all([this.get(id), this.drifts.ofDeployment(id)]);
    return deployment && toView(deployment, drift);
  }

  /**
   * Deployments of a repository whose id is, or starts with, `id` (people type a prefix, as with
   * commit SHAs); two at most, which is enough to tell an ambiguous prefix.
   */
  async findById(repo: Pick<RepoRef, "owner" | "repo">, id: string): Promise<Deployment[]> {
    const rows = await this.#store.db
      .selectFrom("deployments")
      .selectAll()
      .where("owner", "=", repo.owner)
      .where("repo", "=", repo.repo)
      // The command grammar admits only hex digits and dashes, so the id holds no LIKE wildcard.
      .where((eb) => eb.or([eb("id", "=", id), eb("id", "like", `${id}%`)]))
      .orderBy("created_at", "desc")
      .limit(2)
      .execute();
    const exact = rows.find((row) => row.id === id);
    return (exact ? [exact] : rows).map(fromRow);
  }

  /** The deployment holding the environment's lock: the one people's commands address by default. */
  async holderOf(repo: Pick<RepoRef, "owner" | "repo">, environment: string): Promise<Deployment | undefined> {
    const row = await this.#store.db
      .selectFrom("environment_locks")
      .innerJoin("deployments", "deployments.id", "environment_locks.deployment_id")
      .selectAll("deployments")
      .where("environment_locks.owner", "=", repo.owner)
      .where("environment_locks.repo", "=", repo.repo)
      .where("environment_locks.environment", "=", environment)
      .where("environment_locks.kind", "=", "deploy")
      .where("deployments.phase", "not in", [...LOCK_FREE_PHASES])
      .executeTakeFirst();
    return row && fromRow(row);
  }

  /** Every environment Gantry has deployed to. */
  async environments(): Promise<{ repo: Pick<RepoRef, "owner" | "repo">; environment: string }[]> {
    const rows = await this.#store.db.selectFrom("deployments").select(["owner", "repo", "environment"]).distinct().execute();
    return rows.map((row) => ({ repo: { owner: row.owner, repo: row.repo }, environment: row.environment }));
  }

  /**
   * Claims a due deployment that is this replica's, or whose lease is free, expired, or held by a
   * replica whose heartbeat is stale, in one statement, and bumps its fence. Rollbacks come first,
   * then the most overdue; an ended deployment is due once for the read-back of its final weights.
   * With `urgentOnly`, only a rollback (or an asked-for one) is taken. Returns it with the lease to
   * present on every later write.
   */
  async claimDue(owner: string, timing: ClaimTiming, urgentOnly = false): Promise<{ deployment: Deployment; lease: Lease } | undefined> {
    const now = this.#now();
    const { leaseMs } = timing;
    const heldByTheDead = (eb: ExpressionBuilder<Database, "deployments">) =>
      eb("lease_owner", "in", eb.selectFrom("replicas").select("instance_id").where("heartbeat_at", "<", now - timing.heartbeatStaleMs));
    const claimable = (eb: ExpressionBuilder<Database, "deployments">) =>
      eb.or([eb("lease_until", "<", now), eb("lease_owner", "=", owner), heldByTheDead(eb)]);
    // A tick in progress (claimed: next_tick_at = lease_until) whose replica died is due at once; a
    // wait it scheduled (a bake, keep-warm) is not cut short.
    const due = (eb: ExpressionBuilder<Database, "deployments">) =>
      eb.or([eb("next_tick_at", "<=", now), eb.and([eb("next_tick_at", "=", eb.ref("lease_until")), heldByTheDead(eb)])]);
    const row = await this.#store.db
      .updateTable("deployments")
      // While a tick runs the deployment is not due, not even for this replica's other workers.
      .set((eb) => ({ lease_owner: owner, lease_until: now + leaseMs, next_tick_at: now + leaseMs, fence: eb("fence", "+", 1) }))
      .where("id", "=", (eb) =>
        this.#store.lockForClaim(
          eb
            .selectFrom("deployments")
            .select("id")
            .where(due)
            .where(claimable)
            .where((eb) => eb.or([eb("phase", "not in", TERMINAL), eb("final_check_at", "is not", null)]))
            .$if(urgentOnly, (query) => query.where(URGENCY, "=", 0))
            .orderBy(URGENCY)
            .orderBy("next_tick_at")
            .limit(1),
        ),
      )
      .where(claimable)
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    const deployment = fromRow(row);
    return { deployment, lease: { owner, fence: deployment.fence } };
  }

  /**
   * Extends the lease to `leaseMs` after `readAt`, the one reading of the clock the caller also
   * derives its own deadline from; false means it was lost and the caller must stop before touching AWS.
   */
  async renew(id: string, lease: Lease, leaseMs: number, readAt: number = this.#now()): Promise<boolean> {
    const until = readAt + leaseMs;
    const result = await this.#store.db
      .updateTable("deployments")
      // requestAction tells a running tick by next_tick_at = lease_until.
      .set({ lease_until: until, next_tick_at: until })
      .where("id", "=", id)
      .where("fence", "=", lease.fence)
      .where("lease_owner", "=", lease.owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Writes a tick's outcome; false when the lease was lost meanwhile. The replica keeps the lease
   * until `holdMs` after the next tick is due, so one replica drives a deployment while it lives,
   * and another takes over only once that has run out. An ended deployment is let go.
   */
  async save(id: string, lease: Lease, change: DeploymentChange, holdMs: number): Promise<boolean> {
    const now = this.#now();
    const ended = TERMINAL_PHASES.has(change.phase);
    return this.#store.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable("deployments")
        .set({
          phase: change.phase,
          state: JSON.stringify(change.state),
          // An ended deployment is due again only for the read-back of its final weights.
          next_tick_at: ended ? (change.finalCheckAt ?? change.nextTickAt) : change.nextTickAt,
          ...(change.finalCheckAt !== undefined ? { final_check_at: change.finalCheckAt } : {}),
          lease_owner: ended ? null : lease.owner,
          lease_until: ended ? 0 : Math.max(change.nextTickAt, now) + holdMs,
          updated_at: now,
        })
        .where("id", "=", id)
        .where("fence", "=", lease.fence)
        .where("lease_owner", "=", lease.owner)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      if (change.consumed) {
        await trx
          .updateTable("deployments")
          .set({ pending_action: null })
          .where("id", "=", id)
          .where("pending_action", "=", JSON.stringify(change.consumed))
          .execute();
      }
      // An action that arrived during the tick should not wait for the next scheduled one.
      await trx
        .updateTable("deployments")
        .set({ next_tick_at: now })
        .where("id", "=", id)
        .where("pending_action", "is not", null)
        .where("next_tick_at", ">", now)
        .execute();
      if (LOCK_FREE_PHASES.has(change.phase)) {
        await trx.deleteFrom("environment_locks").where("deployment_id", "=", id).execute();
      }
      return true;
    });
  }

  /** Records what a person asked for and makes the deployment due now; false when it already ended. */
  /**
   * Adds a person's approval to a deployment awaiting approval (once per person, whatever the case of
   * their login), with a compare-and-set on the list so two approvals at once both count. Returns the
   * approvals now recorded, or undefined when the deployment no longer awaits approval.
   */
  async addApproval(id: string, approval: Approval): Promise<Approval[] | undefined> {
    for (;;) {
      const row = await this.#store.db.selectFrom("deployments").select(["approvals", "phase"]).where("id", "=", id).executeTakeFirst();
      if (!row || row.phase !== "awaiting-approval") return undefined;
      const before = row.approvals ? z.array(approvalSchema).parse(JSON.parse(row.approvals)) : [];
      if (before.some((given) => given.by.toLowerCase() === approval.by.toLowerCase())) return before;
      const after = [...before, approval];
      const result = await this.#store.db
        .updateTable("deployments")
        .set({ approvals: JSON.stringify(after) })
        .where("id", "=", id)
        .where("phase", "=", "awaiting-approval")
        .where((eb) => (row.approvals === null ? eb("approvals", "is", null) : eb("approvals", "=", row.approvals)))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) return after;
    }
  }

  async requestAction(id: string, action: PendingAction): Promise<boolean> {
    const result = await this.#store.db
      .updateTable("deployments")
      .set({ pending_action: JSON.stringify(action) })
      .where("id", "=", id)
      .where("phase", "not in", TERMINAL)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    // Due now, unless a tick is running (a claim sets next_tick_at = lease_until): its save wakes it.
    await this.#store.db
      .updateTable("deployments")
      .set({ next_tick_at: action.at })
      .where("id", "=", id)
      .where("next_tick_at", ">", action.at)
      .where((eb) => eb("next_tick_at", "!=", eb.ref("lease_until")))
      .execute();
    return true;
  }

  async list(repo: Pick<RepoRef, "owner" | "repo">, options: { environment?: string; phases?: Phase[]; limit?: number } = {}): Promise<Deployment[]> {
    let query = this.#store.db
      .selectFrom("deployments")
      .selectAll()
      .where("owner", "=", repo.owner)
      .where("repo", "=", repo.repo);
    if (options.environment) query = query.where("environment", "=", options.environment);
    if (options.phases) query = query.where("phase", "in", options.phases);
    const rows = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(options.limit ?? 50).execute();
    return rows.map(fromRow);
  }

  /**
   * Who may act on the colour a cooling deployment left: nobody yet ("warm"), the deployment itself
   * ("held": scaling it down, or giving it the traffic back), or a newer deployment ("handed-over").
   */
  async oldColourOf(deployment: Deployment): Promise<"warm" | OldColourHolder> {
    const row = await this.#store.db.selectFrom("deployments").select("old_colour").where("id", "=", deployment.id).executeTakeFirst();
    if (row?.old_colour) return row.old_colour;
    // A deployment prepared before this handoff was recorded took the colour without marking it.
    return (await this.takenOver(deployment)) ? "handed-over" : "warm";
  }

  /** Whether a deployment created after this one has touched the fleet of its environment. */
  async takenOver(deployment: Deployment): Promise<boolean> {
    const recent = await this.list(deployment.repo, { environment: deployment.environment, limit: 20 });
    return recent.some((other) => other.createdAt > deployment.createdAt && other.state.idleTaskDefinitionArn !== null);
  }

  /**
   * For a cooling deployment about to scale its old colour down or put traffic back on it: holds
   * that colour, unless a newer deployment has taken it over, in which case it must leave it alone.
   */
  async holdOldColour(deployment: Deployment): Promise<boolean> {
    if ((await this.oldColourOf(deployment)) === "handed-over") return false;
    const result = await this.#store.db
      .updateTable("deployments")
      .set({ old_colour: "held" })
      .where("id", "=", deployment.id)
      .where((eb) => eb.or([eb("old_colour", "is", null), eb("old_colour", "=", "held")]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * For a deployment about to prepare its idle colour: takes over the colours that the environment's
   * older cooling deployments left. False while one of them holds its colour: the caller waits until
   * that deployment has ended, rather than scale up a service being scaled down.
   */
  async takeOverOldColours(deployment: Deployment): Promise<boolean> {
    const older = await this.#store.db
      .selectFrom("deployments")
      .select(["id", "phase", "old_colour"])
      .where("owner", "=", deployment.repo.owner)
      .where("repo", "=", deployment.repo.repo)
      .where("environment", "=", deployment.environment)
      .where("phase", "in", ["cooling", "rolling-back"])
      .where("id", "!=", deployment.id)
      .where("created_at", "<=", deployment.createdAt)
      .execute();
    for (const row of older) {
      if (row.old_colour === "held") return false;
      if (row.phase !== "cooling") continue;
      const result = await this.#store.db
        .updateTable("deployments")
        .set({ old_colour: "handed-over" })
        .where("id", "=", row.id)
        .where((eb) => eb.or([eb("old_colour", "is", null), eb("old_colour", "=", "handed-over")]))
        .executeTakeFirst();
      // The cooling deployment held it between the read and this write.
      if (Number(result.numUpdatedRows) !== 1) return false;
    }
    return true;
  }

  // Replicas ---------------------------------------------------------------------------------

  /**
   * Records that this replica is alive as of `at`; claims take the leases of one silent for too long.
   * Replicas gone for a day and holding nothing are forgotten.
   */
  async heartbeat(instanceId: string, at: number): Promise<void> {
    await this.#store.db
      .insertInto("replicas")
      .values({ instance_id: instanceId, heartbeat_at: at, started_at: at })
      .onConflict((conflict) => conflict.column("instance_id").doUpdateSet({ heartbeat_at: at }))
      .execute();
    await this.#store.db
      .deleteFrom("replicas")
      .where("heartbeat_at", "<", at - 86_400_000)
      .where("instance_id", "not in", (eb) => eb.selectFrom("deployments").select("lease_owner").where("lease_owner", "is not", null).$narrowType<{ lease_owner: string }>())
      .execute();
  }

  /**
   * Lets go of every deployment this replica holds, so any replica may take each one when it is due:
   * a wait it scheduled (a bake, keep-warm) is kept, and a tick it was still running is due at once.
   * Returns how many it let go.
   */
  async releaseLeases(owner: string): Promise<number> {
    const now = this.#now();
    const result = await this.#store.db
      .updateTable("deployments")
      .set((eb) => ({
        // A running tick is marked by next_tick_at = lease_until (see claimDue).
        next_tick_at: eb.case().when("next_tick_at", "=", eb.ref("lease_until")).then(now).else(eb.ref("next_tick_at")).end(),
        lease_owner: null,
        lease_until: 0,
      }))
      .where("lease_owner", "=", owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** A replica that stops cleanly hands its deployments over at once instead of when its leases run out. */
  async leave(instanceId: string): Promise<void> {
    await this.#store.db.updateTable("replicas").set({ heartbeat_at: 0 }).where("instance_id", "=", instanceId).execute();
  }

  // Environment locks ------------------------------------------------------------------------

  async lockOf(repo: Pick<RepoRef, "owner" | "repo">, environment: string): Promise<LockView | undefined> {
    const row = await this.#store.db
      .selectFrom("environment_locks")
      .selectAll()
      .where("owner", "=", repo.owner)
      .where("repo", "=", repo.repo)
      .where("environment", "=", environment)
      .executeTakeFirst();
    return row && lockView(row);
  }

  /**
   * Takes the environment for a deployment. Succeeds when it is free, or held by a deployment that
   * has since ended (a lock can never outlive its deployment).
   */
  async acquireDeployLock(deployment: Deployment): Promise<{ ok: true } | { ok: false; holder: LockView }> {
    const key = { owner: deployment.repo.owner, repo: deployment.repo.repo, environment: deployment.environment };
    return this.#store.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom("environment_locks")
        .leftJoin("deployments", "deployments.id", "environment_locks.deployment_id")
        .selectAll("environment_locks")
        .select("deployments.phase as deployment_phase")
        .where("environment_locks.owner", "=", key.owner)
        .where("environment_locks.repo", "=", key.repo)
        .where("environment_locks.environment", "=", key.environment)
        .executeTakeFirst();
      if (current?.deployment_id === deployment.id) return { ok: true };
      const stale =
        current?.kind === "deploy" && (current.deployment_phase === null || LOCK_FREE_PHASES.has(current.deployment_phase as Phase));
      if (current && !stale) return { ok: false, holder: lockView(current) };
      if (current) {
        await trx
          .deleteFrom("environment_locks")
          .where("owner", "=", key.owner)
          .where("repo", "=", key.repo)
          .where("environment", "=", key.environment)
          .where("deployment_id", "=", current.deployment_id)
          .execute();
      }
      const inserted = await trx
        .insertInto("environment_locks")
        .values({ ...key, kind: "deploy", holder: deployment.requestedBy, deployment_id: deployment.id, reason: `deploying ${deployment.sha.slice(0, 7)}`, pull_request: deployment.pullRequest, since: this.#now() })
        .onConflict((conflict) => conflict.columns(["owner", "repo", "environment"]).doNothing())
        .returning("environment")
        .executeTakeFirst();
      if (inserted) return { ok: true };
      const holder = await this.lockOf(deployment.repo, deployment.environment);
      return holder ? { ok: false, holder } : { ok: true };
    });
  }

  /** Drops the deploy lock taken for a deployment that was never written. */
  async releaseDeployLock(deploymentId: string): Promise<void> {
    await this.#store.db.deleteFrom("environment_locks").where("deployment_id", "=", deploymentId).execute();
  }

  async stickyLock(repo: RepoRef, environment: string, holder: string, reason: string | null, pullRequest: number | null): Promise<{ ok: true; lock: LockView } | { ok: false; holder: LockView }> {
    const inserted = await this.#store.db
      .insertInto("environment_locks")
      .values({ owner: repo.owner, repo: repo.repo, environment, kind: "sticky", holder, deployment_id: null, reason, pull_request: pullRequest, since: this.#now() })
      .onConflict((conflict) => conflict.columns(["owner", "repo", "environment"]).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { ok: true, lock: lockView(inserted) };
    const current = await this.lockOf(repo, environment);
    if (current?.kind === "sticky" && current.holder === holder) return { ok: true, lock: current };
    return current ? { ok: false, holder: current } : this.stickyLock(repo, environment, holder, reason, pullRequest);
  }

  async removeStickyLock(repo: Pick<RepoRef, "owner" | "repo">, environment: string): Promise<boolean> {
    const result = await this.#store.db
      .deleteFrom("environment_locks")
      .where("owner", "=", repo.owner)
      .where("repo", "=", repo.repo)
      .where("environment", "=", environment)
      .where("kind", "=", "sticky")
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async removeStickyLocksOf(repo: Pick<RepoRef, "owner" | "repo">, pullRequest: number): Promise<LockView[]> {
    const rows = await this.#store.db
      .deleteFrom("environment_locks")
      .where("owner", "=", repo.owner)
      .where("repo", "=", repo.repo)
      .where("kind", "=", "sticky")
      .where("pull_request", "=", pullRequest)
      .returningAll()
      .execute();
    return rows.map(lockView);
  }
}

function fromRow(row: Selectable<DeploymentTable>): Deployment {
  const state = deploymentStateSchema.parse(JSON.parse(row.state));
  return {
    id: row.id,
    repo: { owner: row.owner, repo: row.repo, id: state.repositoryId, installationId: Number(row.installation_id) },
    environment: row.environment,
    sha: row.sha,
    phase: row.phase as Phase,
    requestedBy: row.requested_by,
    pullRequest: row.pull_request,
    state,
    pendingAction: row.pending_action ? pendingActionSchema.parse(JSON.parse(row.pending_action)) : null,
    approvals: row.approvals ? z.array(approvalSchema).parse(JSON.parse(row.approvals)) : [],
    nextTickAt: row.next_tick_at,
    fence: row.fence,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function lockView(row: Selectable<EnvironmentLockTable>): LockView {
  return { environment: row.environment, holder: row.holder, reason: row.reason, kind: row.kind, pullRequest: row.pull_request, since: row.since };
}
