import type { Weights } from "../api.ts";
import type { Deployment } from "../deployment-state.ts";
import { moveTo, type TickContext, type Transition } from "../tick-context.ts";

/**
 * After a deployment ended: reads the listener back and sets the final weights again if they
 * differ. A write from a replica that lost its lease may land after another replica ended the
 * deployment (say at 95/5, with the 5% on a colour since scaled to zero); nothing else would put it
 * right, and the next deployment would take that colour for the idle one.
 */
export async function finalCheck(deployment: Deployment, context: TickContext): Promise<Transition> {
  const final = finalWeights(deployment);
  if (!final) return moveTo(deployment, context, deployment.phase);
  const found = await context.targets.router.getWeights();
  const at = context.now();
  if (found.blue === final.blue && found.green === final.green) {
    return moveTo(deployment, context, deployment.phase, { finalCheck: { at, found, repaired: false, skipped: null } });
  }
  // A newer deployment sets the weights itself now; its own final check covers its end.
  if (await context.supersededBy(deployment)) {
    return moveTo(deployment, context, deployment.phase, { finalCheck: { at, found, repaired: false, skipped: "a newer deployment owns the traffic" } });
  }
  const reported = await context.targets.router.setWeights(final, await context.guard());
  if (reported.blue !== final.blue || reported.green !== final.green) {
    throw new Error(`the load balancer does not report the final weights just set again (blue ${final.blue}%, green ${final.green}%)`);
  }
  return moveTo(deployment, context, deployment.phase, { finalCheck: { at, found, repaired: true, skipped: null } });
}

/**
 * The weights the deployment left, when it set any: all on the serving colour after a rollback, all
 * on the new one after success. A success whose traffic someone else had moved during keep-warm
 * (its reason says so) is left as it is.
 */
function finalWeights(deployment: Deployment): Weights | null {
  const { phase, state } = deployment;
  if (!state.liveColour || !state.weights) return null;
  if (phase === "succeeded") return state.reason === null ? state.weights : null;
  return state.timeToRestoreMs === null ? null : state.weights;
}
