// The AWS clients of one environment of one repository. Credentials come from the default provider
// chain (or the caller); when the environment names a role, it is assumed with the repository's full
// name as ExternalId, so a role trusts only the repository it was made for.
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ECRClient } from "@aws-sdk/client-ecr";
import { ECSClient, type ECSClientConfig } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { EnvironmentConfig } from "../config/repo-config.ts";

export interface AwsClients {
  ecs: ECSClient;
  elbv2: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
  ecr: ECRClient;
}

/** A static identity or a provider of one (`AwsCredentialIdentity | AwsCredentialIdentityProvider`). */
export type AwsCredentials = NonNullable<ECSClientConfig["credentials"]>;
type CredentialProvider = Extract<AwsCredentials, (...args: never[]) => unknown>;
type Identity = Awaited<ReturnType<CredentialProvider>>;

/**
 * Standard retry mode: exponential backoff with jitter, longer for throttling, and a retry quota
 * so a failing region is not hammered. Every call the adapters make is safe to retry: Describe*,
 * GetMetricData, ModifyListener/ModifyRule with the same weights, UpdateService with the same values.
 * RegisterTaskDefinition is not idempotent (a retry after a lost response adds a second revision,
 * which is harmless but untidy); the controller avoids repeating it by first checking whether the
 * idle service already runs the image.
 */
export const RETRY = { retryMode: "standard", maxAttempts: 6 } as const;

/**
 * Each attempt of a hung call gives up, and is retried, after this long. The controller's writes
 * get less: their signal and per-attempt timeout are cut to fit the lease (aws/deadline-options.ts).
 */
const REQUEST_TIMEOUT_MS = 10_000;

/** Credentials are refreshed this long before the assumed role's session expires. */
const REFRESH_BEFORE_MS = 5 * 60_000;

export function awsClientsFor(
  aws: EnvironmentConfig["aws"],
  repoFullName: string,
  options: { credentials?: AwsCredentials; requestTimeoutMs?: number } = {},
): AwsClients {
  const requestHandler = { connectionTimeout: 3_000, requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true };
  const base = { region: aws.region, ...(aws.endpoint ? { endpoint: aws.endpoint } : {}), ...RETRY, requestHandler };
  const credentials = aws.roleArn
    ? shared(
        fromTemporaryCredentials({
          params: { RoleArn: aws.roleArn, ExternalId: repoFullName, RoleSessionName: roleSessionName(repoFullName) },
          ...(options.credentials ? { masterCredentials: options.credentials } : {}),
          clientConfig: base,
        }),
      )
    : options.credentials;
  const config = credentials ? { ...base, credentials } : base;
  return {
    ecs: new ECSClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    cloudwatch: new CloudWatchClient(config),
    ecr: new ECRClient(config),
  };
}

/** `gantry-<owner>-<repo>` within STS's alphabet ([\w+=,.@-]) and 64 characters; shows up in CloudTrail. */
export function roleSessionName(repoFullName: string): string {
  return `gantry-${repoFullName.replace(/[^\w+=,.@-]/g, "-")}`.slice(0, 64);
}

/** One AssumeRole for the four clients instead of one each; a failed or expiring session is fetched again. */
function shared(provider: CredentialProvider): CredentialProvider {
  let current: Promise<Identity> | undefined;
  let expiresAt = 0;
  return () => {
    if (!current || Date.now() >= expiresAt - REFRESH_BEFORE_MS) {
      expiresAt = Infinity;
      current = provider().then(
        (identity) => {
          expiresAt = identity.expiration?.getTime() ?? Infinity;
          return identity;
        },
        (err: unknown) => {
          current = undefined;
          throw err;
        },
      );
    }
    return current;
  };
}
