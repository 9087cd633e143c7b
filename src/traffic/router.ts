import type { Weights } from "../deploy/api.ts";
import type { Deadline } from "../deploy/deadline.ts";

/**
 * One traffic provider behind a reconciler-sized interface (Argo Rollouts' SetWeight / VerifyWeight):
 * the controller never trusts its memory of the weights, it reads them back.
 */
export interface TrafficRouter {
  /** The weights the load balancer reports now, as percentages summing to 100. */
  getWeights(): Promise<Weights>;
  /** Sets both weights in one call, so there is never a moment with a third split; never sent after `deadline`. */
  setWeights(weights: Weights, deadline?: Deadline): Promise<void>;
  /** True when the load balancer reports exactly these weights. */
  verifyWeights(weights: Weights): Promise<boolean>;
}
