import type { Colour, DeploymentView, DriftView, Phase, Weights } from "../deploy/api.ts";

/** Small Markdown pieces shared by the status comment, the check run and `/status`. */

export const shortSha = (sha: string): string => sha.slice(0, 7);

const PHASE_WORDS: Record<Phase, string> = {
  queued: "queued",
  building: "building the image",
  preparing: "preparing the idle colour",
  warming: "waiting for healthy targets",
  "smoke-testing": "smoke-testing",
  "awaiting-approval": "awaiting approval",
  paused: "paused: the verdict stayed inconclusive",
  shifting: "shifting traffic",
  promoting: "promoting",
  watching: "watching after promotion",
  cooling: "live; keeping the old colour warm",
  "rolling-back": "rolling back",
  succeeded: "succeeded",
  "rolled-back": "rolled back",
  failed: "failed",
  aborted: "aborted",
};

export function describePhase(view: Pick<DeploymentView, "phase" | "step" | "warmUntil" | "liveColour">): string {
  if (view.phase === "shifting") return `${PHASE_WORDS.shifting} (step ${view.step + 1})`;
  if (view.phase === "cooling" && view.warmUntil !== null) {
    return `live; the old colour${view.liveColour ? ` (${view.liveColour})` : ""} is kept warm until ${utcTime(view.warmUntil)}`;
  }
  return PHASE_WORDS[view.phase];
}

/** "2026-12-01 05:42:10 UTC". */
export function utcTime(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** "green 25% (new) · blue 75%": the colour being deployed first, when known. */
export function describeWeights(weights: Weights | null, liveColour: Colour | null): string {
  if (!weights) return "—";
  const fresh: Colour | null = liveColour === null ? null : liveColour === "blue" ? "green" : "blue";
  const order: Colour[] = fresh === "blue" ? ["blue", "green"] : ["green", "blue"];
  return order.map((colour) => `${colour} ${weights[colour]}%${colour === fresh ? " (new)" : ""}`).join(" · ");
}

/** Traffic changed outside Gantry, and what became of it: one line for the status comment and the check run. */
export function describeDrift(drift: DriftView): string {
  const found = `⚠️ load balancer at ${describeWeights(drift.observed, null)}, not the ${describeWeights(drift.expected, null)} Gantry set (found ${new Date(drift.detectedAt).toISOString()})`;
  if (drift.resolution === null) return `${found}; deploys wait for \`/ack-drift ${drift.environment}\``;
  return `${found}; ${drift.resolution} by @${drift.resolvedBy}${drift.note ? `: ${drift.note}` : ""}`;
}

/**
 * Who approved, and while it waits, how many more and until when, with how to approve: one line for
 * the status comment (Slack shows the same through its buttons).
 */
export function describeApproval(view: Pick<DeploymentView, "approval" | "phase" | "environment">): string {
  const approval = view.approval;
  if (!approval) return "not needed";
  const given = approval.by.map((approver) => `@${approver.by}`).join(", ");
  if (view.phase !== "awaiting-approval") return given ? `approved by ${given}` : "not given";
  const missing = approval.required - approval.by.length;
  const so = given ? ` (so far: ${given})` : "";
  const until = approval.until === null ? "" : ` until ${utcTime(approval.until)}`;
  return `⏳ waiting${until} for ${missing} more approval${missing === 1 ? "" : "s"}${so}: \`/approve ${view.environment}\` here, or Approve in Slack`;
}
