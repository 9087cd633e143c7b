import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  GetAuthorizationTokenCommand,
  ImageAlreadyExistsException,
  ImageDigestDoesNotMatchException,
  ImageNotFoundException,
  PutImageCommand,
  RepositoryNotFoundException,
} from "@aws-sdk/client-ecr";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator, type AwsEmulator } from "./index.ts";
import { clients } from "./test-helpers.ts";

let emu: AwsEmulator;
let ecr: ReturnType<typeof clients>["ecr"];

beforeAll(async () => {
  emu = await startAwsEmulator();
  ecr = clients(emu).ecr;
});
afterAll(() => emu.close());

describe("ECR", () => {
  it("stores pushed sample images under the sha256 of their manifest", async () => {
    const { digest, imageUri } = await emu.pushSampleImage("abc123", { version: "abc123" });
    expect(imageUri).toBe(`${emu.accountId}.dkr.ecr.us-east-1.amazonaws.com/sample-app@${digest}`);
    const out = await ecr.send(new BatchGetImageCommand({ repositoryName: "sample-app", imageIds: [{ imageTag: "abc123" }] }));
    const manifest = out.images?.[0]?.imageManifest ?? "";
    expect(`sha256:${createHash("sha256").update(manifest).digest("hex")}`).toBe(digest);
    expect(out.images?.[0]?.imageId).toEqual({ imageDigest: digest, imageTag: "abc123" });
    expect(JSON.parse(manifest).annotations["dev.gantry.sample.behaviour"]).toContain("abc123");
  });

  it("retags by putting the same manifest under another tag, without a new digest", async () => {
    const { digest } = await emu.pushSampleImage("sha-1", { version: "sha-1" });
    const got = await ecr.send(new BatchGetImageCommand({ repositoryName: "sample-app", imageIds: [{ imageDigest: digest }] }));
    const put = await ecr.send(
      new PutImageCommand({ repositoryName: "sample-app", imageManifest: got.images?.[0]?.imageManifest, imageTag: "production", imageDigest: digest }),
    );
    expect(put.image?.imageId?.imageDigest).toBe(digest);
    const described = await ecr.send(new DescribeImagesCommand({ repositoryName: "sample-app", imageIds: [{ imageDigest: digest }] }));
    expect(described.imageDetails?.[0]?.imageTags?.toSorted()).toEqual(["production", "sha-1"]);
    expect(described.imageDetails?.[0]?.imagePushedAt).toBeInstanceOf(Date);
  });

  it("moves a tag from the image that held it", async () => {
    await emu.pushSampleImage("moving", { version: "one" });
    const two = await emu.pushSampleImage("moving", { version: "two" });
    const out = await ecr.send(new DescribeImagesCommand({ repositoryName: "sample-app", imageIds: [{ imageTag: "moving" }] }));
    expect(out.imageDetails?.map((d) => d.imageDigest)).toEqual([two.digest]);
    const all = await ecr.send(new DescribeImagesCommand({ repositoryName: "sample-app" }));
    expect(all.imageDetails?.filter((d) => d.imageTags?.includes("moving"))).toHaveLength(1);
  });

  it("rejects a push that changes nothing and a digest that does not match", async () => {
    const { digest } = await emu.pushSampleImage("dup", { version: "dup" });
    const manifest = (await ecr.send(new BatchGetImageCommand({ repositoryName: "sample-app", imageIds: [{ imageDigest: digest }] }))).images?.[0]
      ?.imageManifest;
    await expect(ecr.send(new PutImageCommand({ repositoryName: "sample-app", imageManifest: manifest, imageTag: "dup" }))).rejects.toBeInstanceOf(
      ImageAlreadyExistsException,
    );
    await expect(
      ecr.send(new PutImageCommand({ repositoryName: "sample-app", imageManifest: manifest, imageTag: "x", imageDigest: `sha256:${"1".repeat(64)}` })),
    ).rejects.toBeInstanceOf(ImageDigestDoesNotMatchException);
  });

  it("names missing images and repositories", async () => {
    await emu.pushSampleImage("present", { version: "present" });
    await expect(ecr.send(new DescribeImagesCommand({ repositoryName: "sample-app", imageIds: [{ imageTag: "nope" }] }))).rejects.toBeInstanceOf(
      ImageNotFoundException,
    );
    await expect(ecr.send(new DescribeImagesCommand({ repositoryName: "nope" }))).rejects.toBeInstanceOf(RepositoryNotFoundException);
    const out = await ecr.send(new BatchGetImageCommand({ repositoryName: "sample-app", imageIds: [{ imageTag: "nope" }, { imageTag: "present" }] }));
    expect(out.images).toHaveLength(1);
    expect(out.failures).toEqual([{ imageId: { imageTag: "nope" }, failureCode: "ImageNotFound", failureReason: "Requested image not found" }]);
  });

  it("hands out a docker login token", async () => {
    const out = await ecr.send(new GetAuthorizationTokenCommand({}));
    const data = out.authorizationData?.[0];
    expect(Buffer.from(data?.authorizationToken ?? "", "base64").toString()).toMatch(/^AWS:.+/);
    expect(data?.proxyEndpoint).toBe(`https://${emu.accountId}.dkr.ecr.us-east-1.amazonaws.com`);
    expect(data?.expiresAt?.getTime()).toBeGreaterThan(Date.now());
  });
});
