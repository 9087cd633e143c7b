import type { EnvironmentConfig } from "../../config/repo-config.ts";
import type { CommandName } from "../command.ts";
import { approvedReviewGate } from "./approved-review.ts";
import { approversGate } from "./approvers.ts";
import { checksGreenGate } from "./checks-green.ts";
import { commitOriginGate } from "./commit-origin.ts";
import { deployersGate } from "./deployers.ts";
import { enforcedOrderGate } from "./enforced-order.ts";
import { forkGate } from "./fork.ts";
import type { Gate, GateContext, Refusal } from "./gate.ts";
import { openPullRequestGate } from "./open-pull-request.ts";
import { permissionGate } from "./permission.ts";
import { unmovedHeadGate } from "./unmoved-head.ts";
import { upToDateGate } from "./up-to-date.ts";

/**
 * The gates a command must pass in an environment: first who may act (`actor`, checked before Gantry
 * reads anything else), then, for a deploy, what may ship (`commit`).
 */
export function gatesFor(command: CommandName, environment: EnvironmentConfig): { actor: Gate[]; commit: Gate[] } {
  switch (command) {
    case "deploy":
      return {
        actor: [permissionGate, deployersGate],
        commit: [
          openPullRequestGate,
          forkGate,
          commitOriginGate,
          ...(environment.gates.checksGreen ? [checksGreenGate] : []),
          ...(environment.gates.approvedReview ? [approvedReviewGate] : []),
          ...(environment.gates.upToDate ? [upToDateGate] : []),
          enforcedOrderGate,
        ],
      };
    case "approve":
      // The approval is of the deployed commit: re-checked against the pull request's head when given.
      return { actor: [permissionGate, approversGate, unmovedHeadGate], commit: [] };
    case "rollback":
    case "promote":
    case "abort":
    case "lock":
    case "unlock":
    case "ack-drift":
      return { actor: [permissionGate, deployersGate], commit: [] };
    case "status":
    case "help":
      return { actor: [], commit: [] };
  }
}

/** Runs gates in order and stops at the first refusal, so no request is made past it. */
export async function runGates(gates: readonly Gate[], context: GateContext): Promise<Refusal | null> {
  for (const gate of gates) {
    const result = await gate.check(context);
    if (!result.pass) return { gate: result.gate, reason: result.reason, howToPass: result.howToPass };
  }
  return null;
}
