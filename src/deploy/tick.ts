import type { Phase } from "./api.ts";
import type { Deployment, PendingAction } from "./deployment-state.ts";
import { buildImage } from "./phases/build-image.ts";
import { prepare } from "./phases/prepare.ts";
import { warm } from "./phases/warm.ts";
import { smokeTest } from "./phases/smoke.ts";
import { nextStep, shift } from "./phases/shift.ts";
import { promote, startCooling, watch } from "./phases/promote.ts";
import { cool, restore, waitForApproval, waitForPerson } from "./phases/finish.ts";
import { LeaseLost, liveAndIdle, moveTo, rollBack, stayIn, type TickContext, type Transition } from "./tick-context.ts";

type PhaseStep = (deployment: Deployment, context: TickContext) => Promise<Transition> | Transition;

/** What each phase does on a tick; terminal phases are never claimed. */
const PHASE_STEPS: Partial<Record<Phase, PhaseStep>> = {
  queued: async (deployment, context) =>
    (await context.acquireLock(deployment))
      ? moveTo(deployment, context, deployment.state.imageUri === null ? "building" : "preparing")
      : stayIn(deployment, context, context.timing.pollMs),
  building: buildImage,
  preparing: prepare,
  warming: warm,
  "smoke-testing": smokeTest,
  "awaiting-approval": waitForApproval,
  shifting: shift,
  paused: waitForPerson,
  promoting: promote,
  watching: watch,
  cooling: cool,
  "rolling-back": restore,
};

/** One idempotent step of a deployment: a person's pending action first, else its phase's step. */
export async function tick(deployment: Deployment, context: TickContext): Promise<Transition> {
  const action = deployment.pendingAction;
  if (action && (await oldColourTaken(deployment, context, action))) {
    const { live } = liveAndIdle(deployment.state);
    const reason = `not rolled back in place for @${action.by}: a newer deployment had taken ${live} over; /rollback again redeploys the previous commit`;
    return { ...moveTo(deployment, context, "succeeded", { reason }), consumed: action };
  }
  const acted = action ? applyAction(deployment, context, action) : undefined;
  if (acted) return restoreAtOnce(deployment, { ...acted, consumed: action }, context);
  const step = PHASE_STEPS[deployment.phase];
  if (!step) throw new Error(`deployment ${deployment.id} is ${deployment.phase}; nothing to do`);
  const transition = await step(deployment, context);
  return restoreAtOnce(deployment, action ? { ...transition, consumed: action } : transition, context);
}

/**
 * A decision to roll back restores traffic in the same tick: waiting for the next claim would put a
 * save, a report and a claim between the decision and the weights. If restoring fails here, the
 * decision is saved as it stands and the next tick restores (retried and counted as usual).
 */
async function restoreAtOnce(deployment: Deployment, transition: Transition, context: TickContext): Promise<Transition> {
  if (transition.phase !== "rolling-back" || deployment.phase === "rolling-back") return transition;
  try {
    const restored = await restore({ ...deployment, phase: "rolling-back", state: transition.state }, context);
    return { ...restored, consumed: transition.consumed };
  } catch (error) {
    if (error instanceof LeaseLost) throw error;
    return transition;
  }
}

/** A rollback in place gives the traffic back to the colour a cooling deployment left, which it must hold first. */
async function oldColourTaken(deployment: Deployment, context: TickContext, action: PendingAction): Promise<boolean> {
  if (deployment.phase !== "cooling" || action.kind !== "rollback") return false;
  return !(await context.holdOldColour(deployment));
}

const BEFORE_TRAFFIC: ReadonlySet<Phase> = new Set(["building", "preparing", "warming", "smoke-testing", "awaiting-approval"]);

/** A person's request, applied where it makes sense; elsewhere it is dropped (the API refused it already). */
function applyAction(deployment: Deployment, context: TickContext, action: PendingAction): Transition | undefined {
  const who = `@${action.by}`;
  const why = action.reason ? `: ${action.reason}` : "";
  switch (action.kind) {
    case "abort":
      if (deployment.phase === "queued") return moveTo(deployment, context, "aborted", { reason: `aborted by ${who}${why}` });
      if (deployment.phase === "rolling-back") return undefined;
      return rollBack(deployment, context, "aborted", `aborted by ${who}${why}`, action.at);
    case "rollback":
      if (deployment.phase === "queued") return moveTo(deployment, context, "aborted", { reason: `rolled back by ${who} before it started${why}` });
      if (deployment.phase === "rolling-back") return undefined;
      return rollBack(deployment, context, BEFORE_TRAFFIC.has(deployment.phase) ? "aborted" : "rolled-back", `rollback requested by ${who}${why}`, action.at);
    case "approve":
      if (deployment.phase !== "awaiting-approval") return undefined;
      return moveTo(deployment, context, firstShift(deployment), { approvedBy: action.by });
    case "promote":
      if (deployment.phase === "shifting") return moveTo(deployment, context, "promoting", { reason: `promoted by ${who}` });
      if (deployment.phase !== "paused") return undefined;
      return deployment.state.pausedFrom === "watching" ? startCooling(deployment, context) : nextStep(deployment, context);
  }
}

function firstShift(deployment: Deployment): Phase {
  const { strategy } = deployment.state.environment;
  return strategy.type === "canary" && strategy.steps[0]!.weight < 100 ? "shifting" : "promoting";
}
