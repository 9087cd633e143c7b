// STS AssumeRole on the emulator through the real STS client: the trust policy's ExternalId decides,
// and only the emulator's own key or a role session reaches the other services.
import { DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_REPOSITORY_ID, startAwsEmulator, type AwsEmulator, type SampleWorld } from "./index.ts";

const OTHER = { accessKeyId: "AKIDOTHER", secretAccessKey: "other-secret" };

let emu: AwsEmulator;
let world: SampleWorld;
let sts: STSClient;
beforeAll(async () => {
  emu = await startAwsEmulator();
  world = await emu.seedSampleWorld();
  sts = new STSClient({ ...emu.clientConfig(), credentials: OTHER, maxAttempts: 1 });
});
afterAll(() => emu.close());

const assume = (externalId?: string, roleArn = world.roleArn) =>
  sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "gantry-test", ...(externalId === undefined ? {} : { ExternalId: externalId }) }));

describe("STS on the AWS emulator", () => {
  it("hands out a session for the ExternalId the sample role trusts, which then reaches ECS and ELBv2", async () => {
    const out = await assume(String(SAMPLE_REPOSITORY_ID));
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${emu.accountId}:assumed-role/gantry-sample-deployer/gantry-test`);
    const credentials = {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    };
    expect(out.Credentials?.Expiration?.getTime()).toBeGreaterThan(Date.now());
    const ecs = new ECSClient({ ...emu.clientConfig(), credentials });
    const described = await ecs.send(new DescribeServicesCommand({ cluster: world.clusterArn, services: [world.services.blue.name] }));
    expect(described.services?.[0]?.serviceName).toBe(world.services.blue.name);
    const elbv2 = new ElasticLoadBalancingV2Client({ ...emu.clientConfig(), credentials });
    await expect(elbv2.send(new DescribeLoadBalancersCommand({}))).resolves.toBeDefined();
  });

  it.each([
    ["a wrong ExternalId", "1"],
    ["no ExternalId", undefined],
    ["the repository's name instead of its id", "acme/web"],
  ])("denies %s, as AWS does", async (_case, externalId) => {
    await expect(assume(externalId)).rejects.toMatchObject({ name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
  });

  it("denies a role that does not exist with the same answer", async () => {
    await expect(assume(String(SAMPLE_REPOSITORY_ID), `arn:aws:iam::${emu.accountId}:role/nobody`)).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("lets a key that is not a session do nothing but assume a role", async () => {
    const ecs = new ECSClient({ ...emu.clientConfig(), credentials: OTHER, maxAttempts: 1 });
    await expect(ecs.send(new DescribeServicesCommand({ cluster: world.clusterArn, services: [world.services.blue.name] }))).rejects.toMatchObject({ name: "AccessDeniedException" });
    const elbv2 = new ElasticLoadBalancingV2Client({ ...emu.clientConfig(), credentials: OTHER, maxAttempts: 1 });
    await expect(elbv2.send(new DescribeLoadBalancersCommand({}))).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("refuses a session key presented without its session token", async () => {
    const out = await assume(String(SAMPLE_REPOSITORY_ID));
    const stolen = { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey! };
    const ecs = new ECSClient({ ...emu.clientConfig(), credentials: stolen, maxAttempts: 1 });
    await expect(ecs.send(new DescribeServicesCommand({ cluster: world.clusterArn, services: [world.services.blue.name] }))).rejects.toMatchObject({ name: "AccessDeniedException" });
  });
});
