import type { MetricsSource } from "../analysis/metrics-source.ts";
import type { AwsClientOptions } from "../aws/clients.ts";
import { roleOutsideAccounts, type AwsAccountIds } from "../config/aws-accounts.ts";
import type { EnvironmentConfig } from "../config/repo-config.ts";
import type { ImageRegistry } from "../images/registry.ts";
import type { TrafficRouter } from "../traffic/router.ts";
import type { RepoRef } from "./api.ts";
import type { ServiceFleet } from "./fleet.ts";
import { TargetsRefused, type DeployTargets, type DeployTargetsFactory } from "./targets.ts";

const MINUTE_MS = 60_000;

export interface AwsTargetOptions extends Omit<AwsClientOptions, "requestTimeoutMs"> {
  /** The operator's limit on where roles may live (GANTRY_AWS_ACCOUNT_IDS), enforced before any AWS call. */
  accountIds?: AwsAccountIds;
}

/**
 * The real adapters for an environment. Clients are built once per repository and environment
 * config (ticks run every few seconds) and carry the session of the environment's role, assumed for
 * that repository. The endpoint and Gantry's identity are the server's, never the repository's.
 *
 * The AWS SDK is loaded at the first AWS call, not at start-up: it is the largest part of Gantry's
 * memory, and a replica that only takes webhooks, or a server with nothing to deploy, never needs it.
 */
export function awsDeployTargets(options: AwsTargetOptions = {}): DeployTargetsFactory {
  const cache = new Map<string, DeployTargets>();
  return (repo: RepoRef, environmentName: string, environment: EnvironmentConfig) => {
    const refusal = roleOutsideAccounts(environment.aws.roleArn, options.accountIds);
    if (refusal) throw new TargetsRefused(`environments.${environmentName}.aws.roleArn: ${refusal}`);
    // Only the local world (an endpoint of the server's) has minutes shorter than AWS's.
    if (!options.endpoint && environment.analysis.interval < MINUTE_MS) {
      throw new TargetsRefused(
        `environments.${environmentName}.analysis.interval: CloudWatch has an ALB's metrics per minute, so the judge cannot look more often than every 1m; set 1m or more`,
      );
    }
    const key = JSON.stringify([repo.id, repo.owner, repo.repo, environmentName, environment]);
    let targets = cache.get(key);
    if (!targets) {
      const clientOptions = { ...(options.endpoint ? { endpoint: options.endpoint } : {}), ...(options.credentials ? { credentials: options.credentials } : {}) };
      targets = loadedOnFirstCall(
        async () => (await import("./aws-adapters.ts")).buildAwsTargets(repo, environmentName, environment, clientOptions),
        environment.listeners.test !== undefined,
      );
      cache.set(key, targets);
    }
    return targets;
  };
}

// Every method of each adapter interface, so the compiler says when one is added and not forwarded.
const routerMethods: Record<keyof TrafficRouter, true> = { getWeights: true, setWeights: true, verifyWeights: true };
const fleetMethods: Record<keyof ServiceFleet, true> = { describe: true, registerRevision: true, update: true, targetHealth: true, targetGroupTiming: true };
const metricsMethods: Record<keyof MetricsSource, true> = { sample: true };
const registryMethods: Record<keyof ImageRegistry, true> = { resolve: true, promote: true };

/** Targets whose adapters are built by `load` when one of their methods is first called. */
function loadedOnFirstCall(load: () => Promise<DeployTargets>, hasTestListener: boolean): DeployTargets {
  let loading: Promise<DeployTargets> | undefined;
  const real = () => {
    // A failed load (a module that could not be read) is tried again at the next call.
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
  return {
    router: forwarded(async () => (await real()).router, routerMethods),
    ...(hasTestListener
      ? {
          testListener: {
            router: forwarded(async () => (await real()).testListener!.router, routerMethods),
            baseUrl: async () => (await real()).testListener!.baseUrl(),
          },
        }
      : {}),
    fleet: forwarded(async () => (await real()).fleet, fleetMethods),
    metrics: forwarded(async () => (await real()).metrics, metricsMethods),
    registry: forwarded(async () => (await real()).registry, registryMethods),
  };
}

/** An adapter each of whose methods waits for the real one and calls it (all are async). */
function forwarded<T extends object>(real: () => Promise<T>, methods: Record<keyof T, true>): T {
  const entries = Object.keys(methods).map((name) => [
    name,
    async (...args: unknown[]) => {
      const target = await real();
      return (target[name as keyof T] as (...callArgs: unknown[]) => unknown).apply(target, args);
    },
  ]);
  return Object.fromEntries(entries) as T;
}
