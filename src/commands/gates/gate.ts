import type { EnvironmentConfig, RequiredCheck } from "../../config/repo-config.ts";
import type { DeploymentController, RepoRef } from "../../deploy/api.ts";
import type { Octokit } from "../github.ts";
import type { PermissionCache } from "../permission-cache.ts";
import type { PullRequestFacts } from "../pull-request.ts";

/** Everything a gate may look at; gates read GitHub or the controller, never change anything. */
export interface GateContext {
  octokit: Octokit;
  /** Collaborator roles looked up in the last minute. */
  permissions: PermissionCache;
  controller: DeploymentController;
  repo: RepoRef;
  actor: string;
  /** Gantry's own GitHub App id: only its check runs count as `gantry/test`. */
  appId: number;
  defaultBranch: string;
  environment: string;
  environmentConfig: EnvironmentConfig;
  /** Checks every deploy needs besides `gantry/test` (`ci.requiredChecks`). */
  requiredChecks: readonly RequiredCheck[];
  /** The commit a deploy would ship; null for commands that ship none. */
  sha: string | null;
  /** Whether the commenter named the commit (`--sha`) rather than deploying the pull request's head. */
  shaNamed: boolean;
  /** Null when the command was typed on an issue, not a pull request. */
  pullRequest: PullRequestFacts | null;
}

export interface Refusal {
  gate: string;
  /** What is wrong, in one sentence. */
  reason: string;
  /** What would make the gate pass. */
  howToPass: string;
}

export type GateResult = { pass: true } | ({ pass: false } & Refusal);

export interface Gate {
  name: string;
  check(context: GateContext): Promise<GateResult>;
}

export const PASS: GateResult = { pass: true };

/** A refusal from `gate`; gates build theirs with it so the name always matches. */
export function refuse(gate: Gate | string, reason: string, howToPass: string): GateResult {
  return { pass: false, gate: typeof gate === "string" ? gate : gate.name, reason, howToPass };
}
