// EcrRegistry against the emulated ECR: a commit's image by its full-SHA tag, pinned by digest.
import { BatchGetImageCommand, CreateRepositoryCommand, ECRClient } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientsFor } from "../../src/aws/clients.ts";
import { EcrRegistry } from "../../src/images/ecr-registry.ts";
import { startAwsEmulator, type AwsEmulator } from "../world/aws/index.ts";

const SHA = "3f786850e387550fdab836ed7e6dc881de23001b";

let emu: AwsEmulator;
let registry: EcrRegistry;
beforeAll(async () => {
  emu = await startAwsEmulator();
  const { region, endpoint } = emu.clientConfig();
  const roleArn = emu.sts.createRole("ecr-reader", { externalIds: ["7"] });
  const session = { repository: { owner: "octo-org", repo: "web-shop", id: 7 }, environment: "production" };
  registry = new EcrRegistry(awsClientsFor({ region, roleArn }, session, { endpoint, credentials: { accessKeyId: "AKIDGANTRY", secretAccessKey: "s" } }));
});
afterAll(() => emu.close());

describe("EcrRegistry", () => {
  it("resolves a commit's image to its digest and a digest-pinned URI", async () => {
    const pushed = await emu.pushSampleImage(SHA, { version: "v1" });
    expect(await registry.resolve("sample-app", SHA)).toEqual({
      digest: pushed.digest,
      imageUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/sample-app@${pushed.digest}`,
    });
  });

  it("gives undefined for a commit without an image", async () => {
    await emu.pushSampleImage("v1", { version: "v1" });
    expect(await registry.resolve("sample-app", "0".repeat(40))).toBeUndefined();
  });

  it("refuses a short SHA, which could name another commit's image", async () => {
    await expect(registry.resolve("sample-app", SHA.slice(0, 7))).rejects.toThrow("not a full commit SHA");
  });

  it("fails loudly for a repository that does not exist", async () => {
    await expect(registry.resolve("no-such-repo", SHA)).rejects.toThrow(expect.objectContaining({ name: "RepositoryNotFoundException" }));
  });
});

describe("EcrRegistry.promote", () => {
  const manifestOf = async (repository: string, tag: string) =>
    (await new ECRClient(emu.clientConfig()).send(new BatchGetImageCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }))).images?.[0];

  it("adds the environment's tag to the same manifest: no push, digest unchanged, and again changes nothing", async () => {
    const pushed = await emu.pushSampleImage(SHA, { version: "v1" });
    await registry.promote("sample-app", pushed.digest, "env-production");
    await registry.promote("sample-app", pushed.digest, "env-production");
    const promoted = await manifestOf("sample-app", "env-production");
    expect(promoted?.imageId?.imageDigest).toBe(pushed.digest);
    expect((await manifestOf("sample-app", SHA))?.imageManifest).toBe(promoted?.imageManifest);
  });

  it("moves the tag to the next image deployed, where the repository excludes env-* from immutability", async () => {
    await new ECRClient(emu.clientConfig()).send(
      new CreateRepositoryCommand({ repositoryName: "shop", imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filterType: "WILDCARD", filter: "env-*" }] }),
    );
    const digests = ["a", "b"].map((n) => emu.ecr.putImage({ repositoryName: "shop", imageManifest: JSON.stringify({ schemaVersion: 2, layers: [], annotations: { n } }), imageTag: n.repeat(40) }).image.imageId.imageDigest);
    await registry.promote("shop", digests[0]!, "env-production");
    await registry.promote("shop", digests[1]!, "env-production");
    expect((await manifestOf("shop", "env-production"))?.imageId?.imageDigest).toBe(digests[1]);
  });

  it("says what to change where every tag is immutable", async () => {
    await new ECRClient(emu.clientConfig()).send(new CreateRepositoryCommand({ repositoryName: "strict", imageTagMutability: "IMMUTABLE" }));
    const digests = ["c", "d"].map((n) => emu.ecr.putImage({ repositoryName: "strict", imageManifest: JSON.stringify({ schemaVersion: 2, layers: [], annotations: { n } }), imageTag: n.repeat(40) }).image.imageId.imageDigest);
    await registry.promote("strict", digests[0]!, "env-production");
    await expect(registry.promote("strict", digests[1]!, "env-production")).rejects.toThrow(
      "ECR repository strict keeps tag env-production on another image: its tags are immutable; exclude env-* from immutability (IMMUTABLE_WITH_EXCLUSION) so environment tags can move",
    );
  });
});

