import { TERMINAL_PHASES, type Phase } from "../deploy/api.ts";

/** How a controller phase reads on GitHub: the Deployment status and the `gantry/deploy <env>` check run. */

export type DeploymentState = "queued" | "in_progress" | "success" | "failure" | "inactive";

export function deploymentState(phase: Phase): DeploymentState {
  if (phase === "queued") return "queued";
  // Cooling means the new colour already takes all traffic: it is what runs, so it is the active one.
  if (phase === "cooling" || phase === "succeeded") return "success";
  if (TERMINAL_PHASES.has(phase)) return "failure";
  return "in_progress";
}

export type CheckRunState =
  | { status: "queued" | "in_progress" }
  | { status: "completed"; conclusion: "success" | "failure" | "cancelled" };

/** Cooling reads as done: traffic is all on the new version and its watch passed; the old colour only waits, warm. */
export function checkRunState(phase: Phase): CheckRunState {
  if (phase === "queued") return { status: "queued" };
  if (phase === "cooling") return { status: "completed", conclusion: "success" };
  if (!TERMINAL_PHASES.has(phase)) return { status: "in_progress" };
  const conclusion = phase === "succeeded" ? "success" : phase === "aborted" ? "cancelled" : "failure";
  return { status: "completed", conclusion };
}
