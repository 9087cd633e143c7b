// The sample app's behaviour travels inside its image manifest (as an OCI annotation), so a
// task definition pinned to an image digest decides how its tasks behave.

export interface SampleBehaviour {
  /** Reported in every response body and the `x-sample-version` header (health checks too), as a service built from a commit states it. */
  version: string;
  /** Chance (0..1) that a non-health request is answered with 500, drawn per request. */
  errorRate?: number;
  /** Seed of that draw (default 1), mixed with the task's id: each task draws its own reproducible sequence. */
  seed?: number;
  /** Added delay before every non-health response: a slow version. */
  latencyMs?: number;
  /** Health check path answers 503. */
  failHealthCheck?: boolean;
  /** Delay before the process starts listening. */
  startDelayMs?: number;
  /** Real requests are never answered while the health check still passes. */
  hang?: boolean;
  /** The process exits with status 1 as soon as it starts: ECS keeps replacing it (a crash loop). */
  exitAtStart?: boolean;
  /** The process runs but never listens: every connection to it is refused. */
  refuseConnections?: boolean;
  /**
   * What the task does at its first real request, once health checks (and smoke tests on them) have
   * passed: `exit` with status 1 (ECS replaces it, and the next request kills the new one: a crash
   * loop under traffic), or `refuse`: stop listening and drop its connections, so every later
   * connection is refused.
   */
  onFirstRequest?: "exit" | "refuse";
}

export const BEHAVIOUR_ANNOTATION = "dev.gantry.sample.behaviour";
export const SAMPLE_HEALTH_PATH = "/health";

/** A Dockerfile whose image behaves as told once the AWS emulator's CodeBuild builds it (its label carries the behaviour). */
export function sampleDockerfile(behaviour: SampleBehaviour): string {
  return `FROM node:24-slim\nLABEL ${BEHAVIOUR_ANNOTATION}='${JSON.stringify(behaviour)}'\nCMD ["node", "server.js"]\n`;
}

export function sampleManifest(behaviour: SampleBehaviour): string {
  const config = JSON.stringify({ architecture: "amd64", os: "linux", config: { Env: [`SAMPLE_VERSION=${behaviour.version}`] } });
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", size: config.length, digest: `sha256:${"0".repeat(64)}` },
    layers: [],
    annotations: { [BEHAVIOUR_ANNOTATION]: JSON.stringify(behaviour), "org.opencontainers.image.version": behaviour.version },
  });
}

/** The behaviour recorded in a manifest, or undefined when it is not a sample-app image. */
export function behaviourFromManifest(manifest: string): SampleBehaviour | undefined {
  try {
    const parsed = JSON.parse(manifest) as { annotations?: Record<string, string> };
    const raw = parsed.annotations?.[BEHAVIOUR_ANNOTATION];
    return raw === undefined ? undefined : (JSON.parse(raw) as SampleBehaviour);
  } catch {
    return undefined;
  }
}
