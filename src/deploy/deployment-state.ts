import { z } from "zod";
import { judgeStateSchema } from "../analysis/judge-state.ts";
import type { EnvironmentConfig } from "../config/repo-config.ts";
import type { ResolvedImage } from "../images/registry.ts";
import { approvalSchema, phaseSchema, repoRefSchema, verdictSchema, weightsSchema, type DeploymentView, type DriftView } from "./api.ts";

const colourSchema = z.enum(["blue", "green"]);

/** What a deployment knows beyond its indexed columns; persisted as JSON and validated on read. */
export const deploymentStateSchema = z.object({
  /** The repository's GitHub id (RepoRef.id): the role's ExternalId on every tick. */
  repositoryId: z.number().int(),
  /** The environment's config as it was when the deployment started (already parsed: durations in ms). */
  environment: z.custom<EnvironmentConfig>((value) => typeof value === "object" && value !== null),
  buildRepository: z.string(),
  fastPath: z.boolean(),
  /** For a rollback redeploy: the deployment whose commit it replaces, never to be chosen again by /rollback. */
  rollbackOf: z.string().nullable(),
  /**
   * Pinned when the deployment is created, or once the image it waited for is built: it runs exactly
   * this image (`<registry>/<repository>@sha256:…`), whatever the tags do later. Null while building.
   */
  imageDigest: z.string().nullable(),
  imageUri: z.string().nullable(),
  /** Where the commit's Dockerfile is, should it need building (the config's `build`, read once at the command). */
  build: z.object({ dockerfile: z.string(), context: z.string() }).nullable().default(null),
  /** The environment's tag moved onto the image when the deployment succeeded; null before. */
  promotion: z
    .object({ tag: z.string(), digest: z.string(), at: z.number(), error: z.string().nullable() })
    .nullable()
    .default(null),
  liveColour: colourSchema.nullable(),
  idleTaskDefinitionArn: z.string().nullable(),
  step: z.number().int().min(0),
  phaseStartedAt: z.number(),
  /** During warm-up: the last look that saw fewer of the idle colour's targets registered than tasks wanted (null: none yet). */
  warmRegisteredAfter: z.number().nullable().default(null),
  /** During warm-up: the last look that saw none of the idle colour's targets draining (null: none yet). */
  warmDrainingAfter: z.number().nullable().default(null),
  /** When the current step's weights were verified; its bake and analysis run from here. */
  stepStartedAt: z.number().nullable(),
  extensions: z.number().int().min(0),
  weights: weightsSchema.nullable(),
  verdicts: z.array(verdictSchema),
  /** The judge's running evidence over the whole deployment; null before the first look. */
  judge: judgeStateSchema.nullable().default(null),
  approvedBy: z.string().nullable(),
  /** The Slack channel its message goes to (the environment's, else the repository's); null: none. */
  slackChannel: z.string().nullable().default(null),
  /** The phase a `paused` deployment resumes into on /promote. */
  pausedFrom: z.enum(["shifting", "watching"]).nullable(),
  reason: z.string().nullable(),
  /** What ends the deployment once traffic is restored: `rolled-back` or `aborted`. */
  rollbackOutcome: z.enum(["rolled-back", "aborted", "failed"]).nullable(),
  decidedAt: z.number().nullable(),
  timeToRestoreMs: z.number().nullable(),
  /** Consecutive failed ticks; reset by a successful one. */
  failures: z.number().int().min(0),
  /** The read-back of the listener after the deployment ended, and whether its weights had to be set again. */
  finalCheck: z
    .object({ at: z.number(), found: weightsSchema, repaired: z.boolean(), skipped: z.string().nullable() })
    .nullable()
    .default(null),
});
export type DeploymentState = z.infer<typeof deploymentStateSchema>;

export const pendingActionSchema = z.object({
  kind: z.enum(["approve", "promote", "abort", "rollback"]),
  by: z.string(),
  reason: z.string().nullable(),
  at: z.number(),
});
export type PendingAction = z.infer<typeof pendingActionSchema>;

/** A deployment as the controller works on it: the row's columns plus its parsed state. */
export const deploymentSchema = z.object({
  id: z.string(),
  repo: repoRefSchema,
  environment: z.string(),
  sha: z.string(),
  phase: phaseSchema,
  requestedBy: z.string(),
  pullRequest: z.number().int().nullable(),
  state: deploymentStateSchema,
  pendingAction: pendingActionSchema.nullable(),
  /** Approvals collected while awaiting approval, one per person. */
  approvals: z.array(approvalSchema),
  nextTickAt: z.number(),
  fence: z.number().int(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type Deployment = z.infer<typeof deploymentSchema>;

export function initialState(options: {
  repositoryId: number;
  environment: EnvironmentConfig;
  buildRepository: string;
  fastPath: boolean;
  rollbackOf?: string;
  /** Undefined when the commit's image is still to be built. */
  image: ResolvedImage | undefined;
  build?: DeploymentState["build"];
  now: number;
  slackChannel?: string | null;
}): DeploymentState {
  const { repositoryId, environment, buildRepository, fastPath, image, now } = options;
  return {
    repositoryId,
    environment,
    buildRepository,
    fastPath,
    rollbackOf: options.rollbackOf ?? null,
    imageDigest: image?.digest ?? null,
    imageUri: image?.imageUri ?? null,
    build: options.build ?? null,
    promotion: null,
    liveColour: null,
    idleTaskDefinitionArn: null,
    step: 0,
    phaseStartedAt: now,
    warmRegisteredAfter: null,
    warmDrainingAfter: null,
    stepStartedAt: null,
    extensions: 0,
    weights: null,
    verdicts: [],
    judge: null,
    approvedBy: null,
    slackChannel: options.slackChannel ?? null,
    pausedFrom: null,
    reason: null,
    rollbackOutcome: null,
    decidedAt: null,
    timeToRestoreMs: null,
    failures: 0,
    finalCheck: null,
  };
}

/** `drift`: drift found against the weights this deployment set; its changes count as the view's. */
export function toView(deployment: Deployment, drift?: DriftView): DeploymentView {
  const { state } = deployment;
  const driftChangedAt = drift ? Math.max(drift.observedAt, drift.resolvedAt ?? 0) : 0;
  return {
    id: deployment.id,
    repo: deployment.repo,
    environment: deployment.environment,
    sha: deployment.sha,
    imageDigest: state.imageDigest,
    phase: deployment.phase,
    step: state.step,
    liveColour: state.liveColour,
    weights: state.weights,
    verdicts: state.verdicts,
    requestedBy: deployment.requestedBy,
    pullRequest: deployment.pullRequest,
    reason: state.reason,
    timeToRestoreMs: state.timeToRestoreMs,
    drift: drift ?? null,
    warmUntil: deployment.phase === "cooling" ? state.phaseStartedAt + state.environment.keepWarm : null,
    approval: approvalView(deployment),
    slackChannel: state.slackChannel,
    createdAt: deployment.createdAt,
    updatedAt: Math.max(deployment.updatedAt, driftChangedAt),
  };
}

/** How many approvals a deployment needs, who gave them, and until when it waits; null when it needs none. */
function approvalView(deployment: Deployment): DeploymentView["approval"] {
  const { approval } = deployment.state.environment;
  if (!approval.required || deployment.state.fastPath) return null;
  // Configs stored before count and timeout existed: one approval, no deadline.
  const required = approval.count ?? 1;
  const until = deployment.phase === "awaiting-approval" && approval.timeout !== undefined ? deployment.state.phaseStartedAt + approval.timeout : null;
  return { required, by: deployment.approvals, until };
}
