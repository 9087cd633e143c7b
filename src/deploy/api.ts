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

export const windowSampleSchema = z.object({
  requests: z.number().int().min(0),
  errors: z.number().int().min(0),
  /** p99 of target response time in ms; null when there were no requests. */
  p99Ms: z.number().min(0).nullable(),
});
export type WindowSample = z.infer<typeof windowSampleSchema>;

export const verdictSchema = z.object({
  decision: z.enum(["pass", "fail", "inconclusive"]),
  /** One sentence a person can act on, e.g. "canary 5xx rate 9.8% vs 0.4% (ratio 24×, limit 1.5×)". */
  reason: z.string(),
  canary: windowSampleSchema,
  control: windowSampleSchema,
  /** Credible or confidence interval of the canary/control error-rate ratio, when computable. */
  ratioInterval: z.tuple([z.number(), z.number()]).nullable(),
  /** Probability the canary is worse than allowed, when the test yields one. */
  probabilityWorse: z.number().min(0).max(1).nullable(),
  step: z.number().int().min(0),
  windowStart: z.number(),
  windowEnd: z.number(),
});
export type Verdict = z.infer<typeof verdictSchema>;

export const deploymentViewSchema = z.object({
  id: z.string(),
  repo: repoRefSchema,
  environment: z.string(),
  sha: z.string(),
  /** The image digest the deployment runs, pinned when it was created. */
  imageDigest: z.string(),
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
  /** Names the request (a command's comment): starting again with the same key returns the same deployment. */
  idempotencyKey?: string;
}

export type StartResult =
  | { outcome: "started" | "queued"; deployment: DeploymentView }
  | { outcome: "refused"; reason: string };

export interface ActionRequest {
  repo: RepoRef;
  environment: string;
  by: string;
  reason?: string;
  /** As in StartRequest: a rollback that redeploys an earlier commit creates one deployment per key. */
  idempotencyKey?: string;
}

export type ActionResult = { ok: true; deployment: DeploymentView } | { ok: false; reason: string };

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
  lock: LockView | null;
}

export interface DeploymentController {
  start(request: StartRequest): Promise<StartResult>;
  approve(request: ActionRequest): Promise<ActionResult>;
  promote(request: ActionRequest): Promise<ActionResult>;
  abort(request: ActionRequest): Promise<ActionResult>;
  rollback(request: ActionRequest): Promise<ActionResult>;
  lock(request: ActionRequest & { pullRequest: number | null }): Promise<{ ok: true; lock: LockView } | { ok: false; reason: string }>;
  unlock(request: ActionRequest): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Releases sticky locks taken from a pull request that was closed or merged. */
  releaseLocksOf(repo: RepoRef, pullRequest: number): Promise<LockView[]>;
  status(repo: RepoRef): Promise<EnvironmentStatus[]>;
  history(repo: RepoRef, environment?: string): Promise<DeploymentView[]>;
}

/** Told after every persisted change of a deployment; drives PR comments, GitHub Deployments, Slack. */
export interface DeploymentObserver {
  deploymentChanged(deployment: DeploymentView): Promise<void>;
}
