// STS AssumeRole and who may call what. The emulator's own key (clientConfig) may do anything, for
// tests to seed and inspect; a session of an assumed role may do anything its role allows (here:
// everything); any other key is an identity that may only call sts:AssumeRole, as a Gantry server
// whose IAM policy allows nothing else. So a test signed with another key proves Gantry used the role.
import type { IncomingHttpHeaders } from "node:http";
import { randomHex } from "./ids.ts";
import { AwsError } from "./protocols.ts";

/** What a role's trust policy allows: AssumeRole (and TagSession) with one of these sts:ExternalId values. */

/**
 * The key of a caller that watches the world from outside AWS (a bench timing events at a fine
 * grain): it may only read, draws no API tokens and is left out of the call log, so looking often
 * changes neither what Gantry meets nor what is counted.
 */
export const OBSERVER_ACCESS_KEY_ID = "AKIDOBSERVER";

export interface TrustPolicy {
  externalIds: string[];
}

export interface RoleSession {
  roleArn: string;
  sessionName: string;
  externalId: string | undefined;
  tags: Record<string, string>;
  accessKeyId: string;
  sessionToken: string;
  expiration: Date;
  /** The access key that signed the AssumeRole call. */
  assumedBy: string;
}

interface AssumeRoleInput {
  RoleArn?: string;
  RoleSessionName?: string;
  ExternalId?: string;
  DurationSeconds?: string;
  Tags?: { Key?: string; Value?: string }[];
}

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export class Sts {
  readonly #accountId: string;
  readonly #rootAccessKeyId: string;
  readonly #trust = new Map<string, TrustPolicy>();
  /** Every session handed out, in order. */
  readonly sessions: RoleSession[] = [];

  constructor(accountId: string, rootAccessKeyId: string) {
    this.#accountId = accountId;
    this.#rootAccessKeyId = rootAccessKeyId;
  }

  /** Creates (or replaces the trust policy of) a role in the emulator's account; returns its ARN. */
  createRole(name: string, trust: TrustPolicy): string {
    const arn = `arn:aws:iam::${this.#accountId}:role/${name}`;
    this.#trust.set(arn, { externalIds: [...trust.externalIds] });
    return arn;
  }

  /** Adds an ExternalId the role's trust policy accepts. */
  trust(roleArn: string, externalId: string): void {
    const policy = this.#trust.get(roleArn);
    if (!policy) throw new Error(`no role ${roleArn}`);
    policy.externalIds.push(externalId);
  }

  /** AccessDenied unless the caller may make this call; STS itself answers any signed caller, and the observer may read. */
  authorise(service: string, operation: string, headers: IncomingHttpHeaders): string {
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(String(headers.authorization ?? ""))?.[1];
    if (!accessKeyId) throw new AwsError(deniedCode(service), "Request is missing Authentication Token", 403);
    if (service === "sts" || accessKeyId === this.#rootAccessKeyId) return accessKeyId;
    if (accessKeyId === OBSERVER_ACCESS_KEY_ID && /^(Describe|List|Get)/.test(operation)) return accessKeyId;
    const session = this.sessions.find((s) => s.accessKeyId === accessKeyId);
    if (session && session.sessionToken === headers["x-amz-security-token"] && session.expiration.getTime() > Date.now()) return accessKeyId;
    const action = `${service === "elbv2" ? "elasticloadbalancing" : service === "cloudwatch" ? "cloudwatch" : service}:${operation}`;
    throw new AwsError(
      deniedCode(service),
      `User: arn:aws:iam::${this.#accountId}:user/${accessKeyId} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`,
      service === "ecs" || service === "ecr" || service === "codebuild" ? 400 : 403,
    );
  }

  assumeRole(input: AssumeRoleInput, caller: string) {
    const roleArn = input.RoleArn ?? "";
    const denied = () =>
      new AwsError("AccessDenied", `User: arn:aws:iam::${this.#accountId}:user/${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
    if (!input.RoleSessionName || !SESSION_NAME.test(input.RoleSessionName)) {
      throw new AwsError("ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    }
    const policy = this.#trust.get(roleArn);
    // AWS says the same for a missing role and a wrong ExternalId, so a caller learns nothing from it.
    if (!policy || input.ExternalId === undefined || !policy.externalIds.includes(input.ExternalId)) throw denied();
    const duration = Number(input.DurationSeconds ?? 3600);
    const session: RoleSession = {
      roleArn,
      sessionName: input.RoleSessionName,
      externalId: input.ExternalId,
      tags: Object.fromEntries((input.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
      accessKeyId: `ASIA${randomHex(16).toUpperCase()}`,
      sessionToken: randomHex(64),
      expiration: new Date(Date.now() + duration * 1000),
      assumedBy: caller,
    };
    this.sessions.push(session);
    const roleName = roleArn.split("/").at(-1);
    return {
      Credentials: {
        AccessKeyId: session.accessKeyId,
        SecretAccessKey: randomHex(40),
        SessionToken: session.sessionToken,
        Expiration: session.expiration,
      },
      AssumedRoleUser: {
        Arn: `arn:aws:sts::${this.#accountId}:assumed-role/${roleName}/${session.sessionName}`,
        AssumedRoleId: `AROA${randomHex(16).toUpperCase()}:${session.sessionName}`,
      },
      PackedPolicySize: Object.keys(session.tags).length,
    };
  }
}

function deniedCode(service: string): string {
  return service === "ecs" || service === "ecr" || service === "codebuild" ? "AccessDeniedException" : "AccessDenied";
}
