import { sql } from "kysely";
import type { DeploymentObserver } from "../deploy/api.ts";
import { toView } from "../deploy/deployment-state.ts";
import type { DeploymentStore } from "../deploy/deployment-store.ts";
import type { Store } from "../store/open-store.ts";

/** Deployments that changed this recently are checked; older ones were caught up long ago. */
const LOOK_BACK_MS = 24 * 60 * 60 * 1_000;

/**
 * Records again the latest view of every deployment whose last change never reached the outbox: the
 * controller records a change just after saving it, so a crash between the two would otherwise leave
 * GitHub one change behind (for an ended deployment, for good). A deployment is behind when its row is
 * newer than the last view sent to GitHub and no change of it waits in the outbox. Recording one twice
 * is harmless: the notifier writes only what differs.
 */
export async function recordMissedChanges(options: { store: Store; deployments: DeploymentStore; observer: DeploymentObserver; now?: number }): Promise<number> {
  const { store, deployments, observer } = options;
  const since = (options.now ?? Date.now()) - LOOK_BACK_MS;
  const behind = await store.db
    .selectFrom("deployments")
    .leftJoin("deployment_notifications", "deployment_notifications.deployment_id", "deployments.id")
    .select("deployments.id")
    .where("deployments.updated_at", ">=", since)
    .where((eb) => eb("deployments.updated_at", ">", eb.fn.coalesce("deployment_notifications.view_updated_at", eb.lit(-1))))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("github_outbox_changes")
            .select("github_outbox_changes.seq")
            .where("github_outbox_changes.subject", "=", sql<string>`'deployment:' || deployments.id`),
        ),
      ),
    )
    .execute();
  for (const { id } of behind) {
    const deployment = await deployments.get(id);
    if (deployment) await observer.deploymentChanged(toView(deployment));
  }
  return behind.length;
}
