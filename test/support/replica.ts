import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { awsDeployTargets } from "../../src/deploy/aws-targets.ts";
import { Controller } from "../../src/deploy/controller.ts";
import type { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import { TEST_CREDENTIALS } from "./deploy-world.ts";

export interface Boundary {
  instanceId: string;
  id: string;
  phase: string;
  step: number;
  weights: { blue: number; green: number } | null;
}

/**
 * A controller replica in a child process (test/fixtures/controller-replica.ts) that can be killed;
 * it reaches AWS where the server's AWS_ENDPOINT_URL says, as Gantry does.
 */
export class Replica {
  readonly boundaries: Boundary[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #listeners: (() => void)[] = [];

  constructor(env: Record<string, string>) {
    this.#child = spawn(process.execPath, ["test/fixtures/controller-replica.ts"], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "inherit"] });
    this.#exited = new Promise((resolve) => this.#child.once("exit", () => resolve()));
    createInterface({ input: this.#child.stdout! }).on("line", (line) => {
      const message = JSON.parse(line) as Boundary & { ready?: boolean };
      if (!message.ready) this.boundaries.push(message);
      for (const listener of this.#listeners) listener();
    });
  }

  /** Resolves once this replica has reported `count` boundaries, or has exited. */
  async reached(count: number): Promise<void> {
    if (this.boundaries.length >= count) return;
    await Promise.race([
      this.#exited,
      new Promise<void>((resolve) => {
        this.#listeners.push(() => {
          if (this.boundaries.length >= count) resolve();
        });
      }),
    ]);
  }

  async kill(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.#exited;
  }
}

/** The controller's front door for tests whose runners are Replica processes: it never wakes or reports. */
export function frontDoorFor(deployments: DeploymentStore, awsEndpoint: string): Controller {
  return new Controller({
    deployments,
    observer: { deploymentChanged: async () => {} },
    wake: () => {},
    targetsFor: awsDeployTargets({ endpoint: awsEndpoint, credentials: TEST_CREDENTIALS }),
  });
}
