// The image step's AWS side: CodeBuild and ECR in the operator's build account and region, reached
// with the operator's build role (GANTRY_IMAGE_BUILD_ROLE_ARN) or Gantry's own identity. Nothing here
// comes from a repository's config: it names only its ECR repository and Dockerfile.
import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import { repositoryRoleCredentials, RETRY, type AwsCredentials } from "../aws/clients.ts";
import type { BuildTargets, BuildTargetsFactory } from "./build-loop.ts";
import { CodeBuildBuilder } from "./codebuild-builder.ts";
import { EcrRegistry } from "./ecr-registry.ts";
import type { ImageBuilder } from "./image-builder.ts";
import { ensureLifecyclePolicy } from "./lifecycle-policy.ts";
import { LocalBuilder, type LocalBuilderOptions } from "./local-builder.ts";

export interface ImageBuildSettings {
  builder: "codebuild" | "local";
  region: string;
  /** CodeBuild project (builder `codebuild`). */
  project?: string;
  /** Assumed for every build call, ExternalId = the repository's id, with the same session tags as deploy roles. */
  roleArn?: string;
  /** The server's AWS endpoint (a local world). */
  endpoint?: string;
  /** Gantry's own identity; default: the SDK's provider chain. */
  credentials?: AwsCredentials;
  /** GitHub's web address for the server's GITHUB_API_URL. */
  githubWebUrl: string;
  /** A commit's tarball from GitHub, for the local builder. */
  tarball?: LocalBuilderOptions["tarball"];
  /** Puts Gantry's lifecycle policy (keeping this many other images) on repositories that have none. */
  keepImages?: number;
}

/** https://api.github.com → https://github.com; GitHub Enterprise's https://host/api/v3 → https://host; anything else is taken as is. */
export function githubWebUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === "api.github.com") return "https://github.com";
  return `${url.origin}${url.pathname.replace(/\/api\/v3\/?$/, "").replace(/\/$/, "")}`;
}

export function imageBuildTargets(settings: ImageBuildSettings): BuildTargetsFactory {
  const cache = new Map<number, BuildTargets>();
  return (repo) => {
    let targets = cache.get(repo.id);
    if (!targets) {
      targets = build(settings, repo);
      cache.set(repo.id, targets);
    }
    return targets;
  };
}

function build(settings: ImageBuildSettings, repo: { owner: string; repo: string; id: number }): BuildTargets {
  const base = { region: settings.region, ...(settings.endpoint ? { endpoint: settings.endpoint } : {}), ...RETRY };
  const credentials = settings.roleArn
    ? repositoryRoleCredentials(settings.roleArn, { repository: repo }, { ...(settings.credentials ? { masterCredentials: settings.credentials } : {}), clientConfig: base })
    : settings.credentials;
  const config = { ...base, ...(credentials ? { credentials } : {}) };
  const ecr = new ECRClient(config);
  let builder: ImageBuilder;
  if (settings.builder === "codebuild") {
    builder = new CodeBuildBuilder({ codebuild: new CodeBuildClient(config), project: settings.project ?? "", githubWebUrl: settings.githubWebUrl });
  } else {
    const tarball = settings.tarball;
    if (!tarball) throw new Error("the local image builder needs a way to read tarballs from GitHub");
    builder = new LocalBuilder({ tarball, registryLogin: () => ecrLogin(ecr) });
  }
  const keep = settings.keepImages;
  return { builder, registry: new EcrRegistry({ ecr }), ...(keep ? { ensureLifecyclePolicy: (repository: string) => ensureLifecyclePolicy(ecr, repository, keep) } : {}) };
}

/** ECR's token for `docker login`: base64 of `AWS:<password>`, for the registry of the client's account and region. */
async function ecrLogin(ecr: ECRClient): Promise<{ registry: string; username: string; password: string }> {
  const data = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0];
  if (!data?.authorizationToken || !data.proxyEndpoint) throw new Error("ECR gave no authorization token");
  const [username = "AWS", ...rest] = Buffer.from(data.authorizationToken, "base64").toString("utf8").split(":");
  return { registry: new URL(data.proxyEndpoint).host, username, password: rest.join(":") };
}
