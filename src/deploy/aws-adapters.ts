// The AWS adapters of one environment, built on the SDK clients. Loaded only when a deployment first
// needs AWS (see aws-targets.ts): the SDK is the largest part of Gantry's resident memory.
import { CloudWatchMetrics } from "../analysis/cloudwatch-metrics.ts";
import { awsClientsFor, type AwsClientOptions } from "../aws/clients.ts";
import type { EnvironmentConfig } from "../config/repo-config.ts";
import { EcrRegistry } from "../images/ecr-registry.ts";
import { listenerBaseUrl } from "../traffic/alb-listener.ts";
import { AlbRouter } from "../traffic/alb-router.ts";
import type { RepoRef } from "./api.ts";
import { EcsFleet } from "./ecs-fleet.ts";
import type { DeployTargets } from "./targets.ts";

export function buildAwsTargets(
  repo: RepoRef,
  environmentName: string,
  environment: EnvironmentConfig,
  options: Omit<AwsClientOptions, "requestTimeoutMs">,
): DeployTargets {
  const clients = awsClientsFor(environment.aws, { repository: repo, environment: environmentName }, {
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
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
