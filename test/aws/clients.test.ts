// awsClientsFor: region, endpoint, retries, and the assumed role with the repository as ExternalId.
// STS is not emulated, so nock answers AssumeRole and everything else reaches the AWS emulator.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import { DescribeServicesCommand } from "@aws-sdk/client-ecs";
import { DescribeLoadBalancersCommand, type ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { awsClientsFor, roleSessionName } from "../../src/aws/clients.ts";
import { startAwsEmulator, type AwsEmulator } from "../world/aws/index.ts";

const ROLE = "arn:aws:iam::123456789012:role/gantry-deployer";
const REPO = "octo-org/web-shop";

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
});
afterAll(() => emu.close());
afterEach(() => nock.cleanAll());

interface AssumeRoleCall {
  params: URLSearchParams;
  authorization: string;
}

/** Answers STS AssumeRole at `origin` with session credentials; other requests pass through. */
function fakeSts(origin: string): AssumeRoleCall[] {
  const calls: AssumeRoleCall[] = [];
  const isAssumeRole = (body: string) => new URLSearchParams(body).get("Action") === "AssumeRole";
  const scope = nock(origin, { allowUnmocked: true })
    .persist()
    .post("/", (body: unknown) => isAssumeRole(typeof body === "string" ? body : new URLSearchParams(body as Record<string, string>).toString()))
    .reply(200, () => {
      const expiration = new Date(Date.now() + 3600_000).toISOString();
      return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
          <Credentials><AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey>
          <SessionToken>assumed-session-token</SessionToken><Expiration>${expiration}</Expiration></Credentials>
          <AssumedRoleUser><Arn>${ROLE}/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
        </AssumeRoleResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></AssumeRoleResponse>`;
    }, { "content-type": "text/xml" });
  // nock 15 hands listeners a fetch Request.
  scope.on("request", (req: Request, _interceptor: unknown, body: string) => {
    if (isAssumeRole(body)) calls.push({ params: new URLSearchParams(body), authorization: req.headers.get("authorization") ?? "" });
  });
  return calls;
}

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

describe("awsClientsFor", () => {
  it("targets the environment's region and endpoint with the given credentials and standard retries", async () => {
    const { endpoint, region, credentials } = emu.clientConfig();
    const clients = awsClientsFor({ region, endpoint }, REPO, { credentials });
    for (const client of Object.values(clients)) {
      expect(await client.config.region()).toBe(region);
      expect(await client.config.maxAttempts()).toBe(6);
      expect((await client.config.retryStrategy()).mode).toBe("standard");
    }
    const seen = signedHeaders(clients.elbv2);
    await expect(clients.elbv2.send(new DescribeLoadBalancersCommand({}))).resolves.toBeDefined();
    expect(seen[0]?.authorization).toContain(`Credential=${credentials.accessKeyId}/`);
  });

  it("gives up on a call AWS never answers, every attempt, instead of hanging a controller tick", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { credentials, region } = emu.clientConfig();
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const { ecs } = awsClientsFor({ region, endpoint }, REPO, { credentials, requestTimeoutMs: 200 });
    try {
      await expect(ecs.send(new DescribeServicesCommand({ cluster: "c", services: ["s"] }))).rejects.toMatchObject({ name: "TimeoutError" });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it("assumes the environment's role once, with the repository's full name as ExternalId, and signs with the session", async () => {
    const { endpoint, region, credentials } = emu.clientConfig();
    const calls = fakeSts(endpoint);
    const clients = awsClientsFor({ region, endpoint, roleArn: ROLE }, REPO, { credentials });
    const seen = signedHeaders(clients.elbv2);

    await clients.elbv2.send(new DescribeLoadBalancersCommand({}));
    await clients.ecr.send(new GetAuthorizationTokenCommand({}));

    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.params.get("RoleArn")).toBe(ROLE);
    expect(call?.params.get("ExternalId")).toBe(REPO);
    expect(call?.params.get("RoleSessionName")).toBe("gantry-octo-org-web-shop");
    // The caller's credentials sign AssumeRole; the session's sign everything after it.
    expect(call?.authorization).toContain(`Credential=${credentials.accessKeyId}/`);
    expect(seen[0]?.authorization).toContain("Credential=ASIAASSUMED/");
    expect(seen[0]?.["x-amz-security-token"]).toBe("assumed-session-token");
  });

  it("asks the regional STS endpoint when the environment names no endpoint", async () => {
    const calls = fakeSts("https://sts.eu-west-1.amazonaws.com");
    const clients = awsClientsFor({ region: "eu-west-1", roleArn: ROLE }, "someone/else", { credentials: emu.clientConfig().credentials });
    const identity = await clients.cloudwatch.config.credentials();
    expect(identity).toMatchObject({ accessKeyId: "ASIAASSUMED", sessionToken: "assumed-session-token" });
    expect(calls.map((c) => c.params.get("ExternalId"))).toEqual(["someone/else"]);
  });

  it("keeps role session names within STS's alphabet and length", () => {
    expect(roleSessionName("a/b")).toBe("gantry-a-b");
    expect(roleSessionName(`org/${"x".repeat(100)}`)).toHaveLength(64);
  });
});
