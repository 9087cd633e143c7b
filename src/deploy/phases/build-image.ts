import type { Deployment } from "../deployment-state.ts";
import { moveTo, rollBack, stayIn, type TickContext, type Transition } from "../tick-context.ts";

/**
 * Waits for the commit's image, built once by the image step (src/images), then pins its digest as
 * the environment's role sees it in ECR and goes on to prepare. A failed build ends the deployment
 * with the build's reason; nothing in the environment was touched.
 */
export async function buildImage(deployment: Deployment, context: TickContext): Promise<Transition> {
  const { state, sha } = deployment;
  if (!context.images) return rollBack(deployment, context, "failed", "the commit has no image and this Gantry builds none (GANTRY_IMAGE_BUILDER is unset)");
  const status = await context.images.ensure(
    {
      repo: deployment.repo,
      sha,
      ecrRepository: state.buildRepository,
      dockerfile: state.build?.dockerfile ?? "Dockerfile",
      context: state.build?.context ?? ".",
    },
    deployment.createdAt,
  );
  switch (status.status) {
    case "building":
      return stayIn(deployment, context, context.timing.pollMs);
    case "refused":
    case "failed":
      return rollBack(deployment, context, "failed", `the image build failed: ${status.reason}`);
    case "ready": {
      const image = await context.targets.registry.resolve(state.buildRepository, sha);
      if (!image) throw new Error(`the image of ${sha} was built (${status.digest}), but ECR repository ${state.buildRepository} shows this environment's role no tag ${sha}`);
      return moveTo(deployment, context, "preparing", { imageDigest: image.digest, imageUri: image.imageUri });
    }
  }
}
