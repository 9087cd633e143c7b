import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import { toView } from "../../src/deploy/deployment-state.ts";
import { DeploymentOutbox } from "../../src/notify/deployment-outbox.ts";
import { DeploymentNotifications } from "../../src/notify/notification-store.ts";
import { recordMissedChanges } from "../../src/notify/outbox-catch-up.ts";
import { GitHubOutbox } from "../../src/notify/outbox-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { deploymentFixture } from "../support/deployment-fixture.ts";
import { storeBackends } from "../support/stores.ts";

const NOW = 100 * 24 * 3_600_000;

describe.each(storeBackends)("changes saved but never recorded (a crash between the two), store on $name", (backend) => {
  let store: Store;
  let deployments: DeploymentStore;
  let outbox: GitHubOutbox;
  let observer: DeploymentOutbox;

  beforeEach(async () => {
    store = await (await backend.location()).open();
    deployments = new DeploymentStore(store, () => NOW);
    outbox = new GitHubOutbox(store, () => NOW);
    observer = new DeploymentOutbox(outbox, () => {});
  });
  afterEach(async () => {
    await store.close();
  });

  async function saved(id: string, phase: "rolled-back" | "shifting", updatedAt: number) {
    const deployment = { ...deploymentFixture({ id, sha: id.padEnd(40, "0"), phase }), updatedAt };
    await deployments.insert(deployment);
    return deployment;
  }

  it("records the latest view of a deployment GitHub has not seen, and only of that one", async () => {
    // Ended just before the crash: GitHub last saw it shifting.
    const lost = await saved("lost", "rolled-back", NOW - 1_000);
    const notifications = new DeploymentNotifications(store);
    await notifications.ensure(toView(lost));
    await notifications.update("lost", { view_updated_at: NOW - 2_000 });
    // Up to date on GitHub.
    const seen = await saved("seen", "shifting", NOW - 1_000);
    await notifications.ensure(toView(seen));
    await notifications.update("seen", { view_updated_at: NOW - 1_000 });
    // Behind, but its change already waits in the outbox.
    const waiting = await saved("waiting", "shifting", NOW - 1_000);
    await observer.deploymentChanged(toView(waiting));
    // Behind, but from long ago.
    await saved("ancient", "rolled-back", NOW - 2 * 24 * 3_600_000);

    expect(await recordMissedChanges({ store, deployments, observer, now: NOW })).toBe(1);
    const recorded = await store.db.selectFrom("github_outbox_changes").select(["subject", "payload"]).orderBy("seq").execute();
    expect(recorded.map((change) => [change.subject, [(JSON.parse(change.payload) as { phase: string }).phase]]).sort()).toEqual([
      ["deployment:lost", ["rolled-back"]],
      ["deployment:waiting", ["shifting"]],
    ]);
    // Once recorded, a second look finds nothing more to do.
    expect(await recordMissedChanges({ store, deployments, observer, now: NOW })).toBe(0);
  });
});
