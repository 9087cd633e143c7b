import { TERMINAL_PHASES, type DeploymentObserver, type DeploymentView, type Phase } from "../deploy/api.ts";
import { PRIORITY, type GitHubOutbox, type OutboxSubject } from "./outbox-store.ts";

/** News of traffic moving back goes out first. */
const TRAFFIC_MOVED: ReadonlySet<Phase> = new Set(["rolling-back", ...TERMINAL_PHASES]);

export function deploymentSubject(view: DeploymentView): OutboxSubject {
  return { key: `deployment:${view.id}`, installationId: view.repo.installationId, kind: "deployment" };
}

/**
 * What the controller is told of each change: one insert into the outbox, then the drain is woken.
 * GitHub's speed never reaches the controller; the drain sends the writes apart from the ticks.
 */
export class DeploymentOutbox implements DeploymentObserver {
  readonly #outbox: GitHubOutbox;
  readonly #wake: () => void;

  constructor(outbox: GitHubOutbox, wake: () => void) {
    this.#outbox = outbox;
    this.#wake = wake;
  }

  async deploymentChanged(view: DeploymentView): Promise<void> {
    const priority = TRAFFIC_MOVED.has(view.phase) ? PRIORITY.trafficMoved : PRIORITY.normal;
    await this.#outbox.record(deploymentSubject(view), JSON.stringify(view), priority);
    this.#wake();
  }
}
