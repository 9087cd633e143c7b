// Gantry's ECR lifecycle policy: put on a repository that has none, never over an operator's own.
import { ECRClient, GetLifecyclePolicyCommand, PutLifecyclePolicyCommand } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureLifecyclePolicy, lifecyclePolicyText } from "../../src/images/lifecycle-policy.ts";
import { startAwsEmulator, type AwsEmulator } from "../world/aws/index.ts";
import { createImmutableRepository } from "./build-world.ts";

let aws: AwsEmulator;
let ecr: ECRClient;
beforeAll(async () => {
  aws = await startAwsEmulator();
  ecr = new ECRClient(aws.clientConfig());
  await createImmutableRepository(aws, "fresh");
  await createImmutableRepository(aws, "curated");
});
afterAll(() => aws.close());

describe("the ECR lifecycle policy", () => {
  it("keeps what environments run, what production ran for 90 days after its last pull, and the N newest of the rest", () => {
    const { rules } = JSON.parse(lifecyclePolicyText(30)) as { rules: { rulePriority: number; selection: Record<string, unknown> }[] };
    expect(rules.map((rule) => [rule.rulePriority, rule.selection])).toEqual([
      [1, { tagStatus: "tagged", tagPatternList: ["env-*"], countType: "imageCountMoreThan", countNumber: 1000 }],
      [2, { tagStatus: "tagged", tagPatternList: ["deployed-production-*"], countType: "sinceImagePulled", countUnit: "days", countNumber: 90 }],
      [3, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 }],
    ]);
  });

  it("is put on a repository without a policy, and never replaces the operator's own", async () => {
    expect(await ensureLifecyclePolicy(ecr, "fresh", 30)).toBe(true);
    expect((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: "fresh" }))).lifecyclePolicyText).toBe(lifecyclePolicyText(30));
    const own = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 }, action: { type: "expire" } }] });
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: "curated", lifecyclePolicyText: own }));
    expect(await ensureLifecyclePolicy(ecr, "curated", 30)).toBe(false);
    expect((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: "curated" }))).lifecyclePolicyText).toBe(own);
  });
});
