// awsClientsFor: the environment's role, assumed through the emulator's STS with the repository's
// immutable id as ExternalId, signs every call; the endpoint is the server's, never the repository's.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import { DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import { DescribeLoadBalancersCommand, type ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { awsClientsFor, roleSessionName, type RoleSession } from "../../src/aws/clients.ts";
import { startAwsEmulator, type AwsEmulator } from "../world/aws/index.ts";

/** Gantry's own identity: the emulator lets a key that is not its own do nothing but assume a role. */
const GANTRY = { accessKeyId: "AKIDGANTRY", secretAccessKey: "gantry-secret" };
const REPOSITORY_ID = 81_234_567;
const SESSION: RoleSession = { repository: { owner: "octo-org", repo: "web-shop", id: REPOSITORY_ID }, environment: "production" };

let emu: AwsEmulator;
let roleArn: string;
beforeAll(async () => {
  emu = await startAwsEmulator();
  roleArn = emu.sts.createRole("web-shop-deployer", { externalIds: [String(REPOSITORY_ID)] });
});
afterAll(() => emu.close());
afterEach(() => {
  nock.cleanAll();
  delete process.env.AWS_ENDPOINT_URL;
});

/** Headers of each signed request the client sends (the deserialize step sees the request after signing). */
function signedHeaders(client: ElasticLoadBalancingV2Client): Record<string, string>[] {
  const seen: Record<string, string>[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      seen.push({ ...(args.request as { headers: Record<string, string> }).headers });
      return next(args);
    },
    { step: "deserialize" },
  );
  return seen;
}

const sessionsOf = (role: string) => emu.sts.sessions.filter((session) => session.roleArn === role);

describe("awsClientsFor", () => {
  it("assumes the role once, with the repository's id as ExternalId and tags naming repository and environment", async () => {
    const { region, endpoint } = emu.clientConfig();
    const before = sessionsOf(roleArn).length;
    const clients = awsClientsFor({ region, roleArn }, SESSION, { endpoint, credentials: GANTRY });
    for (const client of Object.values(clients)) {
      expect(await client.config.region()).toBe(region);
      expect(await client.config.maxAttempts()).toBe(6);
      expect((await client.config.retryStrategy()).mode).toBe("standard");
    }
    const seen = signedHeaders(clients.elbv2);

    await clients.elbv2.send(new DescribeLoadBalancersCommand({}));
    await clients.ecr.send(new GetAuthorizationTokenCommand({}));

    const sessions = sessionsOf(roleArn).slice(before);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      externalId: String(REPOSITORY_ID),
      sessionName: "gantry-octo-org-web-shop",
      assumedBy: GANTRY.accessKeyId,
      tags: { "gantry:repository": "octo-org/web-shop", "gantry:repository-id": String(REPOSITORY_ID), "gantry:environment": "production" },
    });
    // Gantry's key signed AssumeRole only; the session signs everything after it.
    expect(seen[0]?.authorization).toContain(`Credential=${sessions[0]!.accessKeyId}/`);
    expect(seen[0]?.["x-amz-security-token"]).toBe(sessions[0]!.sessionToken);
  });

  it("is trusted by id: a renamed repository keeps its role, another repository given the old name does not get it", async () => {
    const { region, endpoint } = emu.clientConfig();
    const renamed = { repository: { owner: "new-owner", repo: "shop", id: REPOSITORY_ID }, environment: "production" };
    await expect(awsClientsFor({ region, roleArn }, renamed, { endpoint, credentials: GANTRY }).elbv2.send(new DescribeLoadBalancersCommand({}))).resolves.toBeDefined();

    const impostor = { repository: { owner: "octo-org", repo: "web-shop", id: 99 }, environment: "production" };
    const { ecs } = awsClientsFor({ region, roleArn }, impostor, { endpoint, credentials: GANTRY });
    const before = emu.calls.length;
    await expect(ecs.send(new DescribeServicesCommand({ cluster: "c", services: ["s"] }))).rejects.toMatchObject({ name: "AccessDenied" });
    expect(emu.calls.slice(before)).toEqual([]);
  });

  it("cannot reach ECS with Gantry's own identity: only the role's session can", async () => {
    const ecs = new ECSClient({ ...emu.clientConfig(), credentials: GANTRY, maxAttempts: 1 });
    await expect(ecs.send(new DescribeServicesCommand({ cluster: "c", services: ["s"] }))).rejects.toMatchObject({ name: "AccessDeniedException" });
  });

  it("reaches the endpoint the server's AWS_ENDPOINT_URL names when given none (the SDK's standard setting)", async () => {
    process.env.AWS_ENDPOINT_URL = emu.endpoint;
    const before = sessionsOf(roleArn).length;
    const { elbv2 } = awsClientsFor({ region: emu.region, roleArn }, SESSION, { credentials: GANTRY });
    await expect(elbv2.send(new DescribeLoadBalancersCommand({}))).resolves.toBeDefined();
    expect(sessionsOf(roleArn).length).toBe(before + 1);
  });

  it("asks the regional STS endpoint when the server names no endpoint", async () => {
    const externalIds: (string | null)[] = [];
    nock("https://sts.eu-west-1.amazonaws.com")
      .post("/", (body: unknown) => {
        const params = new URLSearchParams(typeof body === "string" ? body : (body as Record<string, string>));
        externalIds.push(params.get("ExternalId"));
        return params.get("Action") === "AssumeRole";
      })
      .reply(
        200,
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
          <Credentials><AccessKeyId>ASIAREGIONAL</AccessKeyId><SecretAccessKey>s</SecretAccessKey>
          <SessionToken>regional-token</SessionToken><Expiration>${new Date(Date.now() + 3600_000).toISOString()}</Expiration></Credentials>
          <AssumedRoleUser><Arn>${roleArn}/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
        </AssumeRoleResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        { "content-type": "text/xml" },
      );
    const clients = awsClientsFor({ region: "eu-west-1", roleArn }, SESSION, { credentials: GANTRY });
    expect(await clients.cloudwatch.config.credentials()).toMatchObject({ accessKeyId: "ASIAREGIONAL", sessionToken: "regional-token" });
    expect(externalIds).toEqual([String(REPOSITORY_ID)]);
  });

  it("gives up on a call AWS never answers, every attempt, instead of hanging a controller tick", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const { ecs } = awsClientsFor({ region: emu.region, roleArn }, SESSION, { endpoint, credentials: GANTRY, requestTimeoutMs: 200 });
    try {
      await expect(ecs.send(new DescribeServicesCommand({ cluster: "c", services: ["s"] }))).rejects.toMatchObject({ name: "TimeoutError" });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it("keeps role session names within STS's alphabet and length", () => {
    expect(roleSessionName("a/b")).toBe("gantry-a-b");
    expect(roleSessionName(`org/${"x".repeat(100)}`)).toHaveLength(64);
  });
});
