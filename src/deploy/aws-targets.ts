import { CloudWatchMetrics } from "../analysis/cloudwatch-metrics.ts";
import { awsClientsFor, type AwsCredentials } from "../aws/clients.ts";
import type { EnvironmentConfig } from "../config/repo-config.ts";
import { EcrRegistry } from "../images/ecr-registry.ts";
import { listenerBaseUrl } from "../traffic/alb-listener.ts";
import { AlbRouter } from "../traffic/alb-router.ts";
import type { RepoRef } from "./api.ts";
import { EcsFleet } from "./ecs-fleet.ts";
import type { DeployTargets, DeployTargetsFactory } from "./targets.ts";

/**
 * The real adapters for an environment. Clients are built once per repository and environment
 * config (ticks run every few seconds) and carry credentials scoped to that repository.
 */
export function awsDeployTargets(options: { credentials?: AwsCredentials } = {}): DeployTargetsFactory {
  const cache = new Map<string, DeployTargets>();
  return (repo: RepoRef, environment: EnvironmentConfig) => {
    const repoFullName = `${repo.owner}/${repo.repo}`;
    const key = `${repoFullName}\n${JSON.stringify(environment)}`;
    let targets = cache.get(key);
    if (!targets) {
      targets = build(repoFullName, environment, options.credentials);
      cache.set(key, targets);
    }
    return targets;
  };
}

function build(repoFullName: string, environment: EnvironmentConfig, credentials: AwsCredentials | undefined): DeployTargets {
  const clients = awsClientsFor(environment.aws, repoFullName, credentials ? { credentials } : {});
  const { targetGroups, listeners, ecs } = environment;
  const testListener = listeners.test;
  return {
    router: new AlbRouter({ elbv2: clients.elbv2, arn: listeners.production, targetGroups }),
    ...(testListener
      ? {
          testListener: {
            router: new AlbRouter({ elbv2: clients.elbv2, arn: testListener, targetGroups }),
            baseUrl: () => listenerBaseUrl(clients.elbv2, testListener),
          },
        }
      : {}),
    fleet: new EcsFleet({ ecs: clients.ecs, elbv2: clients.elbv2, cluster: ecs.cluster, services: ecs.services, targetGroups }),
    metrics: new CloudWatchMetrics({ cloudwatch: clients.cloudwatch, elbv2: clients.elbv2 }),
    registry: new EcrRegistry({ ecr: clients.ecr }),
  };
}
