// The AWS clients of one environment of one repository. Gantry's own credentials (the default
// provider chain, or the caller's) only assume the environment's role: ExternalId is the repository's
// immutable numeric id, so a role trusts only the repository it was made for, even after a rename or
// transfer, and every other call is signed by that role's session.
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ECRClient } from "@aws-sdk/client-ecr";
import { ECSClient, type ECSClientConfig } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { EnvironmentConfig } from "../config/repo-config.ts";
import type { RepoRef } from "../deploy/api.ts";

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

/** Whose session it is: the repository (by its immutable id) and the environment it deploys to. */
export interface RoleSession {
  repository: Pick<RepoRef, "owner" | "repo" | "id">;
  environment: string;
}

export interface AwsClientOptions {
  /**
   * The server's AWS endpoint (a local world); unset, the SDK's own resolution applies: the regional
   * endpoints, or AWS_ENDPOINT_URL from the server's environment.
   */
  endpoint?: string;
  /** Gantry's own identity, which only assumes the role; default: the SDK's provider chain. */
  credentials?: AwsCredentials;
  requestTimeoutMs?: number;
}

export function awsClientsFor(aws: EnvironmentConfig["aws"], session: RoleSession, options: AwsClientOptions = {}): AwsClients {
  const requestHandler = { connectionTimeout: 3_000, requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true };
  const base = { region: aws.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}), ...RETRY, requestHandler };
  const credentials = shared(repositoryRoleCredentials(aws.roleArn, session, { ...(options.credentials ? { masterCredentials: options.credentials } : {}), clientConfig: base }));
  const config = { ...base, credentials };
  return {
    ecs: new ECSClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    cloudwatch: new CloudWatchClient(config),
    ecr: new ECRClient(config),
  };
}

/** Whose session it is, where there is no environment (an image build). */
export type RepositorySession = Pick<RoleSession, "repository"> & Partial<Pick<RoleSession, "environment">>;

/**
 * `roleArn` assumed for one repository: ExternalId is its immutable id, and the session is tagged with
 * it (and the environment, when there is one). The tags let the role's permission policy scope
 * resources by aws:PrincipalTag/…; they need sts:TagSession in its trust policy.
 */
export function repositoryRoleCredentials(
  roleArn: string,
  session: RepositorySession,
  options: { masterCredentials?: AwsCredentials; clientConfig: NonNullable<Parameters<typeof fromTemporaryCredentials>[0]["clientConfig"]> },
): CredentialProvider {
  const { repository, environment } = session;
  const fullName = `${repository.owner}/${repository.repo}`;
  return fromTemporaryCredentials({
    params: {
      RoleArn: roleArn,
      ExternalId: String(repository.id),
      RoleSessionName: roleSessionName(fullName),
      Tags: [
        { Key: "gantry:repository", Value: fullName },
        { Key: "gantry:repository-id", Value: String(repository.id) },
        ...(environment === undefined ? [] : [{ Key: "gantry:environment", Value: environment }]),
      ],
    },
    ...options,
  });
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
