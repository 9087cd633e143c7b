// ImageRegistry on ECR: the image of a commit is the one tagged with its full SHA, deployed by digest.
import { BatchGetImageCommand, DescribeImagesCommand, ImageAlreadyExistsException, ImageNotFoundException, ImageTagAlreadyExistsException, PutImageCommand, type ECRClient } from "@aws-sdk/client-ecr";
import type { ImageRegistry, ResolvedImage } from "./registry.ts";

/** A full commit SHA (SHA-1, or SHA-256 in repositories that use it); a short one could name another commit's image. */
const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export class EcrRegistry implements ImageRegistry {
  readonly #ecr: ECRClient;

  constructor(options: { ecr: ECRClient }) {
    this.#ecr = options.ecr;
  }

  async resolve(repository: string, sha: string): Promise<ResolvedImage | undefined> {
    if (!FULL_SHA.test(sha)) throw new Error(`"${sha}" is not a full commit SHA; images are tagged with the full SHA`);
    let detail;
    try {
      const out = await this.#ecr.send(new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: sha }] }));
      detail = out.imageDetails?.[0];
    } catch (err) {
      if (err instanceof ImageNotFoundException) return undefined;
      throw err;
    }
    if (!detail?.imageDigest || !detail.registryId) return undefined;
    const region = await this.#ecr.config.region();
    const domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    return {
      digest: detail.imageDigest,
      imageUri: `${detail.registryId}.dkr.ecr.${region}.${domain}/${repository}@${detail.imageDigest}`,
    };
  }

  /**
   * BatchGetImage of the digest, then PutImage of the very same manifest bytes under `tag`: ECR adds
   * the tag without a push or a rebuild, and the digest is unchanged. Promoting again is harmless.
   */
  async promote(repository: string, digest: string, tag: string): Promise<void> {
    const got = await this.#ecr.send(new BatchGetImageCommand({ repositoryName: repository, imageIds: [{ imageDigest: digest }] }));
    const image = got.images?.[0];
    if (!image?.imageManifest) {
      const failure = got.failures?.[0];
      throw new Error(`ECR repository ${repository} has no image ${digest}${failure?.failureReason ? ` (${failure.failureReason})` : ""}`);
    }
    try {
      await this.#ecr.send(
        new PutImageCommand({
          repositoryName: repository,
          imageManifest: image.imageManifest,
          ...(image.imageManifestMediaType ? { imageManifestMediaType: image.imageManifestMediaType } : {}),
          imageDigest: digest,
          imageTag: tag,
        }),
      );
    } catch (err) {
      // The tag is already on this image.
      if (err instanceof ImageAlreadyExistsException) return;
      if (err instanceof ImageTagAlreadyExistsException) {
        throw new Error(
          `ECR repository ${repository} keeps tag ${tag} on another image: its tags are immutable; exclude env-* from immutability (IMMUTABLE_WITH_EXCLUSION) so environment tags can move`,
          { cause: err },
        );
      }
      throw err;
    }
  }
}
