import type { MetricsSource } from "../analysis/metrics-source.ts";
import type { EnvironmentConfig } from "../config/repo-config.ts";
import type { ImageRegistry } from "../images/registry.ts";
import type { TrafficRouter } from "../traffic/router.ts";
import type { RepoRef } from "./api.ts";
import type { ServiceFleet } from "./fleet.ts";

/** Everything the controller touches in one environment, each behind its adapter interface. */
export interface DeployTargets {
  router: TrafficRouter;
  /** The test listener, when configured: smoke checks reach the idle colour through it. */
  testListener?: { router: TrafficRouter; baseUrl(): Promise<string> };
  fleet: ServiceFleet;
  metrics: MetricsSource;
  registry: ImageRegistry;
}

/** Builds the adapters for an environment, with credentials scoped to the repository and environment. */
export type DeployTargetsFactory = (repo: RepoRef, environmentName: string, environment: EnvironmentConfig) => DeployTargets;

/** The server's settings forbid these targets (e.g. a role outside the allowed AWS accounts); the message says why. */
export class TargetsRefused extends Error {}
