import { z } from "zod";
import type { RepoConfig } from "../config/repo-config.ts";

/**
 * The deployment controller as the rest of Gantry sees it: comment commands, Slack buttons and the
 * dashboard start, approve, promote, abort and roll back deployments only through this interface.
 */

export const repoRefSchema = z.object({
  owner: z.string(),
  repo: z.string(),
  /** GitHub's immutable repository id: what AWS roles trust (ExternalId), unlike a name that can change hands. */
  id: z.number().int(),
  installationId: z.number().int(),
});
export type RepoRef = z.infer<typeof repoRefSchema>;

export const phaseSchema = z.enum([
  "queued",
  "building", // the commit has no image yet: it is being built, once (src/images)
  "preparing", // task definition registered, idle colour scaling up
  "warming", // waiting for steady state and healthy targets
  "smoke-testing",
  "awaiting-approval",
  "paused", // the judge stayed inconclusive past maxExtensions: /promote continues, /abort rolls back
  "shifting", // a canary step: set weights, verify, bake, judge
  "promoting",
  "watching", // post-promotion watch
  "cooling", // keep-warm window before the old colour scales to zero
  "rolling-back",
  "succeeded",
  "rolled-back",
  "failed",
  "aborted",
]);
export type Phase = z.infer<typeof phaseSchema>;

export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set(["succeeded", "rolled-back", "failed", "aborted"]);

export const weightsSchema = z.object({ blue: z.number().int().min(0).max(100), green: z.number().int().min(0).max(100) });
export type Weights = z.infer<typeof weightsSchema>;
export type Colour = keyof Weights;

/**
 * One target group's figures over one window, as the load balancer reports them (AWS/ApplicationELB).
 * Fields added later default, so verdicts stored by an older Gantry still read.
 */
export const windowSampleSchema = z.object({
  /** RequestCount: requests for which the load balancer chose a target in this group. */
  requests: z.number().int().min(0),
  /** HTTPCode_Target_2XX/3XX/4XX/5XX_Count together: requests a target answered. */
  responses: z.number().int().min(0).default(0),
  /** HTTPCode_Target_5XX_Count. */
  target5xx: z.number().int().min(0).default(0),
  /** TargetConnectionErrorCount: connections to a target that failed (the balancer answers 502). */
  connectionErrors: z.number().int().min(0).default(0),
  /** Largest HealthyHostCount in the window; null when CloudWatch has no datapoint. */
  healthyHosts: z.number().min(0).nullable().default(null),
  /** HTTPCode_ELB_5XX_Count of the whole load balancer (not this group): 5xx the balancer answered itself. */
  loadBalancer5xx: z.number().int().min(0).default(0),
  /** Median and p99 of TargetResponseTime in ms; null when no target answered. */
  p50Ms: z.number().min(0).nullable().default(null),
  p99Ms: z.number().min(0).nullable(),
});
export type WindowSample = z.infer<typeof windowSampleSchema>;

/** What a verdict shows of one colour: requests, the ones the judge counts as failed, and p99. */
export const judgedSampleSchema = z.object({
  requests: z.number().int().min(0),
  /** Failed requests: 5xx from a target, or no answer from a target at all (502/503/504 from the balancer). */
  errors: z.number().int().min(0),
  p99Ms: z.number().min(0).nullable(),
});
export type JudgedSample = z.infer<typeof judgedSampleSchema>;

/**
 * The sequential test's running evidence over one whole deployment (all steps and the watch): the log
 * likelihood ratio of each alternative in the mixture against the tolerated ratio.
 */
export const evidenceSchema = z.object({
  logLikelihoodRatios: z.array(z.number()),
});
export type Evidence = z.infer<typeof evidenceSchema>;

export const verdictSchema = z.object({
  decision: z.enum(["pass", "fail", "inconclusive"]),
  /** One sentence a person can act on, e.g. "canary failed 9.8% (49/500) vs control 0.40% (8/2000); evidence 1.2e6 ≥ 200". */
  reason: z.string(),
  /** The canary and the control over the current step (or the watch) so far. */
  canary: judgedSampleSchema,
  control: judgedSampleSchema,
  /** E-value of the whole deployment so far: the judge fails the canary when it reaches 1 / falseRollbackBudget. */
  evidence: z.number().min(0).nullable().default(null),
  step: z.number().int().min(0),
  /** The window judged: whole CloudWatch minutes (epoch ms, end exclusive). */
  windowStart: z.number(),
  windowEnd: z.number(),
  /** When the window's data was read, all of it published by then (epoch ms). */
  readAt: z.number().optional(),
});
export type Verdict = z.infer<typeof verdictSchema>;

/**
 * The production listener's weights differ from what Gantry last set there: someone changed them
 * behind Gantry's back. Deploys to the environment are refused until a person acknowledges it.
 */
export const driftViewSchema = z.object({
  environment: z.string(),
  /** The deployment whose weights Gantry last set (and verified) in the environment. */
  deploymentId: z.string(),
  expected: weightsSchema,
  /** The latest weights read that differ from `expected`. */
  observed: weightsSchema,
  detectedAt: z.number(),
  observedAt: z.number(),
  /** `acknowledged` by /ack-drift, or `forced` by an admin's /deploy --force; null while open. */
  resolution: z.enum(["acknowledged", "forced"]).nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.number().nullable(),
  note: z.string().nullable(),
});
export type DriftView = z.infer<typeof driftViewSchema>;

/** One person's approval of a deployment: their GitHub login, and when. */
export const approvalSchema = z.object({ by: z.string(), at: z.number() });
export type Approval = z.infer<typeof approvalSchema>;

export const deploymentViewSchema = z.object({
  id: z.string(),
  repo: repoRefSchema,
  environment: z.string(),
  sha: z.string(),
  /** The image digest the deployment runs, pinned when it was created or once its image was built; null while building. */
  imageDigest: z.string().nullable(),
  phase: phaseSchema,
  /** Index into the strategy's steps while shifting. */
  step: z.number().int().min(0),
  /** Serving colour before this deployment; the one a rollback returns to. */
  liveColour: z.enum(["blue", "green"]).nullable(),
  weights: weightsSchema.nullable(),
  verdicts: z.array(verdictSchema),
  requestedBy: z.string(),
  pullRequest: z.number().int().nullable(),
  /** Why it ended in rolled-back / failed / aborted, in words. */
  reason: z.string().nullable(),
  /** Milliseconds from the rollback decision to verified weights on the warm colour. */
  timeToRestoreMs: z.number().nullable(),
  /** Drift found against the weights this deployment set, when it is the one that last set them. */
  drift: driftViewSchema.nullable().optional(),
  /** While cooling: when the old colour, kept warm for a fast rollback, is scaled down. */
  warmUntil: z.number().nullable(),
  /** For an environment that needs approval: how many, who approved so far, and until when it waits (while awaiting). */
  approval: z.object({ required: z.number().int().min(1), by: z.array(approvalSchema), until: z.number().nullable() }).nullable().optional(),
  /** Where its Slack message goes; null or absent: no Slack message. */
  slackChannel: z.string().nullable().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type DeploymentView = z.infer<typeof deploymentViewSchema>;

export interface StartRequest {
  repo: RepoRef;
  /** The repository config the deployment runs with, start to finish (read once, at the command). */
  config: RepoConfig;
  environment: string;
  sha: string;
  requestedBy: string;
  pullRequest: number | null;
  /** A rollback redeploy of a previous digest skips canary steps. */
  fastPath?: boolean;
  /** Break glass: deploy over unacknowledged drift (the caller has checked the person is an admin). */
  force?: boolean;
  /** Names the request (a command's comment): starting again with the same key returns the same deployment. */
  idempotencyKey?: string;
}

export type StartResult =
  | { outcome: "started" | "queued"; deployment: DeploymentView; /** The drift a forced deploy went over. */ forcedOver?: DriftView }
  | { outcome: "refused"; reason: string };

export interface ActionRequest {
  repo: RepoRef;
  environment: string;
  by: string;
  reason?: string;
  /**
   * The deployment to act on, by id or a unique prefix of at least 8 characters. Without it, a
   * command acts on the deployment that holds the environment, never on a queued one.
   */
  id?: string;
  /** As in StartRequest: a rollback that redeploys an earlier commit creates one deployment per key. */
  idempotencyKey?: string;
}

export type ActionResult =
  | {
      ok: true;
      deployment: DeploymentView;
      /** A rollback was already under way: nothing new was asked. */
      alreadyRunning?: boolean;
      /** An approval counted, with more still needed: the deployment keeps waiting. */
      approvalsMissing?: number;
    }
  | { ok: false; reason: string };

export interface LockView {
  environment: string;
  holder: string;
  reason: string | null;
  /** `deploy` locks are taken and released by deployments; `sticky` ones by /lock and /unlock. */
  kind: "deploy" | "sticky";
  pullRequest: number | null;
  since: number;
}

export interface EnvironmentStatus {
  environment: string;
  liveSha: string | null;
  liveDigest: string | null;
  weights: Weights | null;
  running: DeploymentView | null;
  /** Waiting for the environment, oldest first. */
  queued: DeploymentView[];
  lock: LockView | null;
  /** The latest drift found in the environment, open or resolved. */
  drift: DriftView | null;
}

export interface DeploymentController {
  start(request: StartRequest): Promise<StartResult>;
  approve(request: ActionRequest): Promise<ActionResult>;
  promote(request: ActionRequest): Promise<ActionResult>;
  abort(request: ActionRequest): Promise<ActionResult>;
  rollback(request: ActionRequest): Promise<ActionResult>;
  lock(request: ActionRequest & { pullRequest: number | null }): Promise<{ ok: true; lock: LockView } | { ok: false; reason: string }>;
  unlock(request: ActionRequest): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** A person has looked at the drift in an environment: deploys may go ahead again. */
  acknowledgeDrift(request: ActionRequest): Promise<{ ok: true; drift: DriftView } | { ok: false; reason: string }>;
  /** Releases sticky locks taken from a pull request that was closed or merged. */
  releaseLocksOf(repo: RepoRef, pullRequest: number): Promise<LockView[]>;
  status(repo: RepoRef): Promise<EnvironmentStatus[]>;
  history(repo: RepoRef, environment?: string): Promise<DeploymentView[]>;
}

/** Told after every persisted change of a deployment; drives PR comments, GitHub Deployments, Slack. */
export interface DeploymentObserver {
  deploymentChanged(deployment: DeploymentView): Promise<void>;
}
