export interface ResolvedImage {
  /** `sha256:…` of the manifest: deployments pin this, never a tag. */
  digest: string;
  /** `<registry>/<repository>@<digest>`. */
  imageUri: string;
}

/** Where the one image per commit lives (ECR); tags are the full commit SHA. */
export interface ImageRegistry {
  /** The image built for `sha`, or undefined when there is none yet. */
  resolve(repository: string, sha: string): Promise<ResolvedImage | undefined>;
  /** Adds `tag` to the image `digest` (the same manifest, so the same digest); moves it off any other image. */
  promote(repository: string, digest: string, tag: string): Promise<void>;
}

/** `env-production`: the tag of the image an environment runs. */
export function environmentTag(environment: string): string {
  return `env-${environment}`;
}

/** The tag a production promotion leaves for good on the image (`env-production` moves on; this does not). */
export function deployedTag(environment: string, sha: string): string {
  return `deployed-${environment}-${sha}`;
}
