// CodeBuild: projects, source credentials, and builds that run as CodeBuild's would. A build fetches
// its commit's tarball from the GitHub (emulator) named by its source location, with the imported
// token, reads the Dockerfile the build's variables name, and pushes the image to the emulated ECR as
// `<GANTRY_ECR_REPOSITORY>:<GANTRY_SHA>`. The sample service's behaviour comes from the Dockerfile's
// `LABEL dev.gantry.sample.behaviour='{…}'`; `RUN false` (or `exit 1`) fails the build.
import { randomUUID } from "node:crypto";
import { BEHAVIOUR_ANNOTATION, sampleManifest, type SampleBehaviour } from "../sample-service/behaviour.ts";
import type { Ecr } from "./ecr.ts";
import { AwsError, epochSeconds } from "./protocols.ts";
import { readTarGz } from "./tar-read.ts";

type Phase = "SUBMITTED" | "QUEUED" | "PROVISIONING" | "DOWNLOAD_SOURCE" | "INSTALL" | "PRE_BUILD" | "BUILD" | "POST_BUILD" | "UPLOAD_ARTIFACTS" | "FINALIZING" | "COMPLETED";

interface PhaseRecord {
  phaseType: Phase;
  phaseStatus?: "SUCCEEDED" | "FAILED";
  startTime: Date;
  endTime?: Date;
  contexts?: { statusCode: string; message: string }[];
}

interface EmulatedBuild {
  id: string;
  arn: string;
  projectName: string;
  buildStatus: "IN_PROGRESS" | "SUCCEEDED" | "FAILED";
  currentPhase: Phase;
  phases: PhaseRecord[];
  startTime: Date;
  endTime?: Date;
  sourceVersion: string;
  resolvedSourceVersion?: string;
  source: { type: string; location: string; buildspec: string };
  environmentVariables: { name: string; value: string; type: string }[];
  privilegedMode: boolean;
  logLines: string[];
  logStream: string;
}

interface StartBuildInput {
  projectName?: string;
  sourceVersion?: string;
  sourceTypeOverride?: string;
  sourceLocationOverride?: string;
  buildspecOverride?: string;
  privilegedModeOverride?: boolean;
  environmentVariablesOverride?: { name?: string; value?: string; type?: string }[];
  idempotencyToken?: string;
}

/** How long an idempotency token names the same build (CodeBuild: 5 minutes). */
const IDEMPOTENCY_MS = 5 * 60_000;

export class CodeBuild {
  readonly #region: string;
  readonly #accountId: string;
  readonly #ecr: Ecr;
  /** Real ms from a build's start to its end, unless held. */
  buildMs: number;
  #held = false;
  #projects = new Map<string, { arn: string; serviceRole: string }>();
  #tokens = new Map<string, string>();
  #builds = new Map<string, EmulatedBuild>();
  #idempotency = new Map<string, { buildId: string; at: number; input: string }>();
  #running = new Set<Promise<void>>();
  #release: (() => void)[] = [];

  constructor(options: { region: string; accountId: string; ecr: Ecr; buildMs?: number }) {
    this.#region = options.region;
    this.#accountId = options.accountId;
    this.#ecr = options.ecr;
    this.buildMs = options.buildMs ?? 200;
  }

  /** What CreateProject would have made: a project whose builds run with `serviceRole`. */
  createProject(name: string, serviceRole = `arn:aws:iam::${this.#accountId}:role/codebuild-${name}`): string {
    const arn = `arn:aws:codebuild:${this.#region}:${this.#accountId}:project/${name}`;
    this.#projects.set(name, { arn, serviceRole });
    return arn;
  }

  /** While held, builds stay in their BUILD phase: a test can stop Gantry mid-build. */
  hold(held: boolean): void {
    this.#held = held;
    if (!held) for (const release of this.#release.splice(0)) release();
  }

  /** Every build started, oldest first. */
  builds(): EmulatedBuild[] {
    return [...this.#builds.values()];
  }

  async idle(): Promise<void> {
    await Promise.all(this.#running);
  }

  importSourceCredentials(input: { token?: string; serverType?: string; authType?: string }) {
    if (!input.token || !input.serverType || !input.authType) throw new AwsError("InvalidInputException", "token, serverType and authType are required");
    this.#tokens.set(input.serverType, input.token);
    return { arn: `arn:aws:codebuild:${this.#region}:${this.#accountId}:token/${input.serverType.toLowerCase()}` };
  }

  startBuild(input: StartBuildInput) {
    const project = this.#projects.get(input.projectName ?? "");
    if (!project) throw new AwsError("ResourceNotFoundException", `Project cannot be found: arn:aws:codebuild:${this.#region}:${this.#accountId}:project/${input.projectName}`);
    const now = Date.now();
    const asked = JSON.stringify({ ...input, idempotencyToken: undefined });
    if (input.idempotencyToken) {
      const earlier = this.#idempotency.get(input.idempotencyToken);
      if (earlier && now - earlier.at < IDEMPOTENCY_MS) {
        if (earlier.input !== asked) throw new AwsError("InvalidInputException", "Idempotency token is reused with a different set of parameters");
        return { build: this.#view(this.#builds.get(earlier.buildId)!) };
      }
    }
    const uuid = randomUUID();
    const name = input.projectName!;
    const build: EmulatedBuild = {
      id: `${name}:${uuid}`,
      arn: `arn:aws:codebuild:${this.#region}:${this.#accountId}:build/${name}:${uuid}`,
      projectName: name,
      buildStatus: "IN_PROGRESS",
      currentPhase: "SUBMITTED",
      phases: [{ phaseType: "SUBMITTED", startTime: new Date(now) }],
      startTime: new Date(now),
      sourceVersion: input.sourceVersion ?? "",
      source: { type: input.sourceTypeOverride ?? "NO_SOURCE", location: input.sourceLocationOverride ?? "", buildspec: input.buildspecOverride ?? "" },
      environmentVariables: (input.environmentVariablesOverride ?? []).map((v) => ({ name: v.name ?? "", value: v.value ?? "", type: v.type ?? "PLAINTEXT" })),
      privilegedMode: input.privilegedModeOverride === true,
      logLines: [],
      logStream: uuid,
    };
    this.#builds.set(build.id, build);
    if (input.idempotencyToken) this.#idempotency.set(input.idempotencyToken, { buildId: build.id, at: now, input: asked });
    const run = this.#run(build).finally(() => this.#running.delete(run));
    this.#running.add(run);
    return { build: this.#view(build) };
  }

  batchGetBuilds(input: { ids?: string[] }) {
    const ids = input.ids ?? [];
    if (ids.length === 0 || ids.length > 100) throw new AwsError("InvalidInputException", "ids must hold 1 to 100 build ids");
    const builds = ids.flatMap((id) => {
      const build = this.#builds.get(id);
      return build ? [this.#view(build)] : [];
    });
    return { builds, buildsNotFound: ids.filter((id) => !this.#builds.has(id)) };
  }

  handlers(): Record<string, (input: never) => unknown> {
    return {
      StartBuild: (i: StartBuildInput) => this.startBuild(i),
      BatchGetBuilds: (i: { ids?: string[] }) => this.batchGetBuilds(i),
      ImportSourceCredentials: (i: { token?: string; serverType?: string; authType?: string }) => this.importSourceCredentials(i),
    };
  }

  #view(build: EmulatedBuild) {
    const groupName = `/aws/codebuild/${build.projectName}`;
    return {
      id: build.id,
      arn: build.arn,
      projectName: build.projectName,
      buildStatus: build.buildStatus,
      currentPhase: build.currentPhase,
      buildComplete: build.buildStatus !== "IN_PROGRESS",
      startTime: epochSeconds(build.startTime),
      ...(build.endTime ? { endTime: epochSeconds(build.endTime) } : {}),
      sourceVersion: build.sourceVersion,
      ...(build.resolvedSourceVersion ? { resolvedSourceVersion: build.resolvedSourceVersion } : {}),
      source: build.source,
      environment: { type: "LINUX_CONTAINER", image: "aws/codebuild/standard:7.0", computeType: "BUILD_GENERAL1_SMALL", privilegedMode: build.privilegedMode, environmentVariables: build.environmentVariables },
      phases: build.phases.map((p) => ({
        phaseType: p.phaseType,
        ...(p.phaseStatus ? { phaseStatus: p.phaseStatus } : {}),
        startTime: epochSeconds(p.startTime),
        ...(p.endTime ? { endTime: epochSeconds(p.endTime), durationInSeconds: Math.round((p.endTime.getTime() - p.startTime.getTime()) / 1000) } : {}),
        ...(p.contexts ? { contexts: p.contexts } : {}),
      })),
      logs: {
        groupName,
        streamName: build.logStream,
        deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${this.#region}#logsV2:log-groups/log-group/${encodeURIComponent(groupName)}/log-events/${build.logStream}`,
      },
    };
  }

  #enter(build: EmulatedBuild, phase: Phase): void {
    const last = build.phases.at(-1);
    if (last && !last.phaseStatus) {
      last.phaseStatus = "SUCCEEDED";
      last.endTime = new Date();
    }
    build.currentPhase = phase;
    build.phases.push({ phaseType: phase, startTime: new Date() });
  }

  #finish(build: EmulatedBuild, failure?: string): void {
    const last = build.phases.at(-1)!;
    last.phaseStatus = failure ? "FAILED" : "SUCCEEDED";
    last.endTime = new Date();
    if (failure) last.contexts = [{ statusCode: "COMMAND_EXECUTION_ERROR", message: failure }];
    build.logLines.push(failure ? `[Container] Phase ${last.phaseType} failed: ${failure}` : "[Container] Build succeeded");
    build.phases.push({ phaseType: "COMPLETED", startTime: new Date() });
    build.currentPhase = "COMPLETED";
    build.buildStatus = failure ? "FAILED" : "SUCCEEDED";
    build.endTime = new Date();
  }

  async #run(build: EmulatedBuild): Promise<void> {
    const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    const env = Object.fromEntries(build.environmentVariables.map((v) => [v.name, v.value]));
    this.#enter(build, "PROVISIONING");
    await wait(this.buildMs / 4);
    this.#enter(build, "DOWNLOAD_SOURCE");
    let files: Map<string, Buffer>;
    try {
      files = await this.#download(build);
    } catch (error) {
      return this.#finish(build, `CLIENT_ERROR: ${(error as Error).message}`);
    }
    build.resolvedSourceVersion = build.sourceVersion;
    this.#enter(build, "PRE_BUILD");
    if (env.GANTRY_SHA !== build.resolvedSourceVersion) return this.#finish(build, `Error while executing command: test "$CODEBUILD_RESOLVED_SOURCE_VERSION" = "$GANTRY_SHA". Reason: exit status 1`);
    this.#enter(build, "BUILD");
    await wait(this.buildMs / 2);
    if (this.#held) await new Promise<void>((resolve) => this.#release.push(resolve));
    const dockerfilePath = env.GANTRY_DOCKERFILE ?? "Dockerfile";
    const dockerfile = files.get(dockerfilePath);
    if (!dockerfile) return this.#finish(build, `Error while executing command: docker build … Reason: unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat /codebuild/output/src/${dockerfilePath}: no such file or directory`);
    const parsed = parseDockerfile(dockerfile.toString("utf8"));
    if ("error" in parsed) return this.#finish(build, `Error while executing command: docker build … Reason: ${parsed.error}`);
    await wait(this.buildMs / 4);
    this.#enter(build, "POST_BUILD");
    const behaviour: SampleBehaviour = parsed.behaviour ?? { version: build.sourceVersion.slice(0, 7) };
    const manifest = JSON.parse(sampleManifest(behaviour)) as { annotations: Record<string, string> };
    manifest.annotations["org.opencontainers.image.revision"] = build.sourceVersion;
    try {
      this.#ecr.putImage({ repositoryName: env.GANTRY_ECR_REPOSITORY, imageManifest: JSON.stringify(manifest), imageTag: env.GANTRY_SHA });
    } catch (error) {
      return this.#finish(build, `Error while executing command: docker push … Reason: ${(error as Error).message}`);
    }
    this.#finish(build);
  }

  /** The commit's files, as CodeBuild's source download fetches them with the account's GitHub credentials. */
  async #download(build: EmulatedBuild): Promise<Map<string, Buffer>> {
    const match = /^(https?:\/\/[^/]+)\/([^/]+)\/([^/]+?)\.git$/.exec(build.source.location);
    if (!match || (build.source.type !== "GITHUB" && build.source.type !== "GITHUB_ENTERPRISE")) {
      throw new Error(`the source ${build.source.type} ${build.source.location} is not a GitHub repository`);
    }
    const [, origin, owner, repo] = match;
    const token = this.#tokens.get(build.source.type);
    if (!token) throw new Error(`no source credentials for ${build.source.type}: import them with ImportSourceCredentials`);
    const response = await fetch(`${origin}/repos/${owner}/${repo}/tarball/${build.sourceVersion}`, { headers: { authorization: `token ${token}` } });
    if (!response.ok) throw new Error(`repository ${owner}/${repo} at ${build.sourceVersion} could not be downloaded (HTTP ${response.status})`);
    return readTarGz(Buffer.from(await response.arrayBuffer()));
  }
}

/** The sample behaviour a Dockerfile's LABEL sets, or why `docker build` would fail on it. */
export function parseDockerfile(text: string): { behaviour: SampleBehaviour | undefined } | { error: string } {
  const lines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/).map((line) => line.trim()).filter((line) => line && !line.startsWith("#"));
  if (!lines[0] || !/^FROM\s+\S+/i.test(lines[0])) return { error: "failed to solve: the Dockerfile must begin with FROM" };
  let behaviour: SampleBehaviour | undefined;
  for (const line of lines) {
    if (/^RUN\s+(false|exit\s+[1-9]\d*)\s*$/i.test(line)) return { error: `failed to solve: process "/bin/sh -c ${line.slice(4).trim()}" did not complete successfully: exit code: 1` };
    const label = /^LABEL\s+(.*)$/i.exec(line);
    if (!label) continue;
    for (const pair of label[1]!.matchAll(/([\w.-]+)=('([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+))/g)) {
      if (pair[1] !== BEHAVIOUR_ANNOTATION) continue;
      const value = pair[3] ?? pair[4]?.replace(/\\(.)/g, "$1") ?? pair[5] ?? "";
      try {
        behaviour = JSON.parse(value) as SampleBehaviour;
      } catch {
        return { error: `the label ${BEHAVIOUR_ANNOTATION} is not JSON` };
      }
    }
  }
  return { behaviour };
}
