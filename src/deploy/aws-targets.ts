import { CloudWatchMetrics } from "../analysis/cloudwatch-metrics.ts";
import { awsClientsFor, type AwsClientOptions } from "../aws/clients.ts";
import { roleOutsideAccounts, type AwsAccountIds } from "../config/aws-accounts.ts";
import type { EnvironmentConfig } from "../config/repo-config.ts";
import { EcrRegistry } from "../images/ecr-registry.ts";
import { listenerBaseUrl } from "../traffic/alb-listener.ts";
import { AlbRouter } from "../traffic/alb-router.ts";
import type { RepoRef } from "./api.ts";
import { EcsFleet } from "./ecs-fleet.ts";
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
      targets = build(repo, environmentName, environment, options);
      cache.set(key, targets);
    }
    return targets;
  };
}

function build(repo: RepoRef, environmentName: string, environment: EnvironmentConfig, options: AwsTargetOptions): DeployTargets {
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
