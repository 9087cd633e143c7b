// The ECR lifecycle policy Gantry puts on a repository it builds into, when the operator asks for it
// (GANTRY_ECR_KEEP_IMAGES) and the repository has none of its own.
import { GetLifecyclePolicyCommand, LifecyclePolicyNotFoundException, PutLifecyclePolicyCommand, type ECRClient } from "@aws-sdk/client-ecr";

/**
 * Rules in priority order; an image matched by a rule's tags is never expired by a later rule:
 * 1. `env-*`: the images environments run now are kept.
 * 2. `deployed-production-*`: an image that was ever live in production is kept until 90 days after
 *    it was last pulled (ECS pulls it whenever one of its tasks starts).
 * 3. everything else: the `keep` newest are kept. ECR's rules select by tag, not by branch, and
 *    Gantry's tags are commit SHAs, so this counts across branches: set `keep` to cover the default
 *    branch's recent commits and the pull requests open at once.
 */
export function lifecyclePolicyText(keep: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: "Keep the images environments run now (Gantry's env-* tags)",
        selection: { tagStatus: "tagged", tagPatternList: ["env-*"], countType: "imageCountMoreThan", countNumber: 1000 },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: "Keep an image ever deployed to production until 90 days after its last pull",
        selection: { tagStatus: "tagged", tagPatternList: ["deployed-production-*"], countType: "sinceImagePulled", countUnit: "days", countNumber: 90 },
        action: { type: "expire" },
      },
      {
        rulePriority: 3,
        description: `Keep the ${keep} newest of the other images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
        action: { type: "expire" },
      },
    ],
  });
}

/** Puts the policy unless the repository already has one (an operator's own policy is never replaced). Returns whether it put it. */
export async function ensureLifecyclePolicy(ecr: ECRClient, repository: string, keep: number): Promise<boolean> {
  try {
    await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: repository }));
    return false;
  } catch (error) {
    if (!(error instanceof LifecyclePolicyNotFoundException)) throw error;
  }
  await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: repository, lifecyclePolicyText: lifecyclePolicyText(keep) }));
  return true;
}
