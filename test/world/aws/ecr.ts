// ECR: repositories of manifests; a digest is sha256 of the manifest bytes, tags point at digests.
import { createHash } from "node:crypto";
import { AwsError, epochSeconds } from "./protocols.ts";

interface StoredImage {
  digest: string;
  manifest: string;
  mediaType: string;
  tags: string[];
  pushedAt: Date;
}

export type TagMutability = "MUTABLE" | "IMMUTABLE" | "IMMUTABLE_WITH_EXCLUSION" | "MUTABLE_WITH_EXCLUSION";

interface Repository {
  name: string;
  arn: string;
  createdAt: Date;
  images: Map<string, StoredImage>;
  imageTagMutability: TagMutability;
  /** Wildcard filters (`env-*`) of tags that are the exception to the mutability setting. */
  exclusionFilters: string[];
  lifecyclePolicy?: string;
}

interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

export const DEFAULT_MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";

export function manifestDigest(manifest: string): string {
  return `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
}

export class Ecr {
  readonly accountId: string;
  readonly region: string;
  #repos = new Map<string, Repository>();

  constructor(accountId: string, region: string) {
    this.accountId = accountId;
    this.region = region;
  }

  get registry(): string {
    return `${this.accountId}.dkr.ecr.${this.region}.amazonaws.com`;
  }

  createRepository(name: string, settings: { imageTagMutability?: TagMutability; exclusionFilters?: string[] } = {}): void {
    if (this.#repos.has(name)) return;
    this.#repos.set(name, {
      name,
      arn: `arn:aws:ecr:${this.region}:${this.accountId}:repository/${name}`,
      createdAt: new Date(),
      images: new Map(),
      imageTagMutability: settings.imageTagMutability ?? "MUTABLE",
      exclusionFilters: settings.exclusionFilters ?? [],
    });
  }

  /** CreateRepository with its tag mutability settings (the rest of the call is not emulated). */
  createRepositoryCall(input: { repositoryName?: string; imageTagMutability?: TagMutability; imageTagMutabilityExclusionFilters?: { filterType?: string; filter?: string }[] }) {
    const name = input.repositoryName ?? "";
    if (!/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/.test(name)) throw new AwsError("InvalidParameterException", `Invalid parameter at 'repositoryName' failed to satisfy constraint`);
    if (this.#repos.has(name)) throw new AwsError("RepositoryAlreadyExistsException", `The repository with name '${name}' already exists in the registry with id '${this.accountId}'`);
    const mutability = input.imageTagMutability ?? "MUTABLE";
    const filters = (input.imageTagMutabilityExclusionFilters ?? []).map((f) => f.filter ?? "");
    if (mutability.endsWith("_WITH_EXCLUSION") !== filters.length > 0) {
      throw new AwsError("InvalidParameterException", "imageTagMutabilityExclusionFilters go with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION, and only with them");
    }
    this.createRepository(name, { imageTagMutability: mutability, exclusionFilters: filters });
    const repo = this.#repo(name);
    return {
      repository: {
        repositoryArn: repo.arn,
        registryId: this.accountId,
        repositoryName: name,
        repositoryUri: `${this.registry}/${name}`,
        createdAt: epochSeconds(repo.createdAt),
        imageTagMutability: mutability,
        ...(filters.length ? { imageTagMutabilityExclusionFilters: filters.map((filter) => ({ filterType: "WILDCARD", filter })) } : {}),
      },
    };
  }

  putLifecyclePolicy(input: { repositoryName?: string; lifecyclePolicyText?: string }) {
    const repo = this.#repo(input.repositoryName);
    const text = input.lifecyclePolicyText ?? "";
    let policy: { rules?: { rulePriority?: unknown; selection?: { tagStatus?: unknown; countType?: unknown }; action?: { type?: unknown } }[] };
    try {
      policy = JSON.parse(text) as typeof policy;
    } catch {
      throw new AwsError("InvalidParameterException", "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: could not parse JSON'");
    }
    const rules = policy.rules ?? [];
    const priorities = rules.map((rule) => rule.rulePriority);
    const valid = rules.length > 0 && new Set(priorities).size === rules.length && rules.every((rule) =>
      Number.isInteger(rule.rulePriority) && ["tagged", "untagged", "any"].includes(String(rule.selection?.tagStatus)) &&
      ["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled"].includes(String(rule.selection?.countType)) && rule.action?.type === "expire");
    if (!valid) throw new AwsError("InvalidParameterException", "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure'");
    repo.lifecyclePolicy = text;
    return { registryId: this.accountId, repositoryName: repo.name, lifecyclePolicyText: text };
  }

  getLifecyclePolicy(input: { repositoryName?: string }) {
    const repo = this.#repo(input.repositoryName);
    if (repo.lifecyclePolicy === undefined) {
      throw new AwsError("LifecyclePolicyNotFoundException", `Lifecycle policy does not exist for the repository with name '${repo.name}' in the registry with id '${this.accountId}'`);
    }
    return { registryId: this.accountId, repositoryName: repo.name, lifecyclePolicyText: repo.lifecyclePolicy, lastEvaluatedAt: epochSeconds(new Date()) };
  }

  /** Resolves an image URI of this registry (`repo@sha256:...` or `repo:tag`) to its manifest. */
  resolveImageUri(uri: string): string | undefined {
    const m = /^([^/]+)\/([^@:]+)(?:@(sha256:[0-9a-f]{64})|:([^@]+))?$/.exec(uri);
    if (!m || m[1] !== this.registry) return undefined;
    const repo = this.#repos.get(m[2] ?? "");
    return repo ? this.#find(repo, m[3] ? { imageDigest: m[3] } : { imageTag: m[4] ?? "latest" })?.manifest : undefined;
  }

  putImage(input: { repositoryName?: string; imageManifest?: string; imageManifestMediaType?: string; imageTag?: string; imageDigest?: string }) {
    const repo = this.#repo(input.repositoryName);
    if (!input.imageManifest) throw new AwsError("InvalidParameterException", "imageManifest is required");
    try {
      JSON.parse(input.imageManifest);
    } catch {
      throw new AwsError("InvalidParameterException", "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Invalid JSON syntax'");
    }
    const digest = manifestDigest(input.imageManifest);
    if (input.imageDigest !== undefined && input.imageDigest !== digest) {
      throw new AwsError("ImageDigestDoesNotMatchException", `Provided digest ${input.imageDigest} does not match the digest of the manifest ${digest}`);
    }
    const existing = repo.images.get(digest);
    const tag = input.imageTag;
    if (existing && (tag === undefined || existing.tags.includes(tag))) {
      throw new AwsError(
        "ImageAlreadyExistsException",
        `Image with digest '${digest}'${tag ? ` and tag '${tag}'` : ""} already exists in the repository with name '${repo.name}'`,
      );
    }
    const holder = tag === undefined ? undefined : [...repo.images.values()].find((image) => image.digest !== digest && image.tags.includes(tag));
    if (holder && tag !== undefined && immutable(repo, tag)) {
      throw new AwsError(
        "ImageTagAlreadyExistsException",
        `The image tag '${tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the tag is immutable.`,
      );
    }
    if (tag !== undefined) {
      // A tag moves: drop it from whichever image held it before.
      for (const image of repo.images.values()) image.tags = image.tags.filter((t) => t !== tag);
    }
    const image: StoredImage = existing ?? {
      digest,
      manifest: input.imageManifest,
      mediaType: input.imageManifestMediaType ?? mediaTypeOf(input.imageManifest),
      tags: [],
      pushedAt: new Date(),
    };
    if (tag !== undefined) image.tags.push(tag);
    repo.images.set(digest, image);
    return {
      image: {
        registryId: this.accountId,
        repositoryName: repo.name,
        imageId: { imageDigest: digest, imageTag: tag },
        imageManifest: image.manifest,
        imageManifestMediaType: image.mediaType,
      },
    };
  }

  describeImages(input: { repositoryName?: string; imageIds?: ImageId[]; filter?: { tagStatus?: string } }) {
    const repo = this.#repo(input.repositoryName);
    let images: StoredImage[];
    if (input.imageIds?.length) {
      images = input.imageIds.map((id) => {
        const found = this.#find(repo, id);
        if (!found) throw imageNotFound(repo, id);
        return found;
      });
    } else {
      images = [...repo.images.values()].filter((i) => {
        if (input.filter?.tagStatus === "TAGGED") return i.tags.length > 0;
        if (input.filter?.tagStatus === "UNTAGGED") return i.tags.length === 0;
        return true;
      });
    }
    return {
      imageDetails: images.map((i) => ({
        registryId: this.accountId,
        repositoryName: repo.name,
        imageDigest: i.digest,
        imageTags: i.tags.length ? [...i.tags] : undefined,
        imageSizeInBytes: Buffer.byteLength(i.manifest),
        imagePushedAt: epochSeconds(i.pushedAt),
        imageManifestMediaType: i.mediaType,
        artifactMediaType: "application/vnd.oci.image.config.v1+json",
      })),
    };
  }

  batchGetImage(input: { repositoryName?: string; imageIds?: ImageId[] }) {
    const repo = this.#repo(input.repositoryName);
    if (!input.imageIds?.length) throw new AwsError("InvalidParameterException", "imageIds must contain at least one image id");
    const images = [];
    const failures = [];
    for (const id of input.imageIds) {
      const found = this.#find(repo, id);
      if (found && id.imageTag !== undefined && id.imageDigest !== undefined && !found.tags.includes(id.imageTag)) {
        failures.push({ imageId: id, failureCode: "ImageTagDoesNotMatchDigest", failureReason: "Requested image tag does not match the digest" });
      } else if (found) {
        images.push({
          registryId: this.accountId,
          repositoryName: repo.name,
          imageId: { imageDigest: found.digest, imageTag: id.imageTag },
          imageManifest: found.manifest,
          imageManifestMediaType: found.mediaType,
        });
      } else {
        failures.push({ imageId: id, failureCode: "ImageNotFound", failureReason: "Requested image not found" });
      }
    }
    return { images, failures };
  }

  getAuthorizationToken() {
    return {
      authorizationData: [
        {
          authorizationToken: Buffer.from("AWS:emulator-password").toString("base64"),
          expiresAt: epochSeconds(new Date(Date.now() + 12 * 3600_000)),
          proxyEndpoint: `https://${this.registry}`,
        },
      ],
    };
  }

  #repo(name: string | undefined): Repository {
    const repo = this.#repos.get(name ?? "");
    if (!repo) {
      throw new AwsError(
        "RepositoryNotFoundException",
        `The repository with name '${name}' does not exist in the registry with id '${this.accountId}'`,
      );
    }
    return repo;
  }

  #find(repo: Repository, id: ImageId): StoredImage | undefined {
    if (id.imageDigest !== undefined) return repo.images.get(id.imageDigest);
    return [...repo.images.values()].find((i) => id.imageTag !== undefined && i.tags.includes(id.imageTag));
  }
}

/** Whether a tag may not move to another image: the repository's setting, or the exception its filters make. */
function immutable(repo: Repository, tag: string): boolean {
  const excluded = repo.exclusionFilters.some((filter) => new RegExp(`^${filter.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(tag));
  switch (repo.imageTagMutability) {
    case "MUTABLE":
      return false;
    case "IMMUTABLE":
      return true;
    case "IMMUTABLE_WITH_EXCLUSION":
      return !excluded;
    case "MUTABLE_WITH_EXCLUSION":
      return excluded;
  }
}

function imageNotFound(repo: Repository, id: ImageId): AwsError {
  const which = id.imageDigest ? `imageDigest=${id.imageDigest}` : `imageTag=${id.imageTag}`;
  return new AwsError("ImageNotFoundException", `The image with imageId {${which}} does not exist within the repository with name '${repo.name}'`);
}

function mediaTypeOf(manifest: string): string {
  const parsed = JSON.parse(manifest) as { mediaType?: unknown };
  return typeof parsed.mediaType === "string" ? parsed.mediaType : DEFAULT_MANIFEST_TYPE;
}

export function ecrHandlers(ecr: Ecr): Record<string, (input: never) => unknown> {
  return {
    PutImage: (i: Parameters<Ecr["putImage"]>[0]) => ecr.putImage(i),
    DescribeImages: (i: Parameters<Ecr["describeImages"]>[0]) => ecr.describeImages(i),
    BatchGetImage: (i: Parameters<Ecr["batchGetImage"]>[0]) => ecr.batchGetImage(i),
    GetAuthorizationToken: () => ecr.getAuthorizationToken(),
    CreateRepository: (i: Parameters<Ecr["createRepositoryCall"]>[0]) => ecr.createRepositoryCall(i),
    PutLifecyclePolicy: (i: Parameters<Ecr["putLifecyclePolicy"]>[0]) => ecr.putLifecyclePolicy(i),
    GetLifecyclePolicy: (i: Parameters<Ecr["getLifecyclePolicy"]>[0]) => ecr.getLifecyclePolicy(i),
  };
}
