// EcrRegistry against the emulated ECR: a commit's image by its full-SHA tag, pinned by digest.
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
