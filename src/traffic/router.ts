import type { Weights } from "../deploy/api.ts";
import type { Deadline } from "../deploy/deadline.ts";

/**
 * One traffic provider behind a reconciler-sized interface (Argo Rollouts' SetWeight / VerifyWeight):
 * the controller never trusts its memory of the weights, it reads them back.
 */
export interface TrafficRouter {
  /** The weights the load balancer reports now, as percentages summing to 100. */
  getWeights(): Promise<Weights>;
  /**
   * Sets both weights in one call, so there is never a moment with a third split, unless the load
   * balancer already has them; never sent after `deadline`. Returns the weights the load balancer
   * reports afterwards (its own answer to the change).
   */
  setWeights(weights: Weights, deadline?: Deadline): Promise<Weights>;
  /** True when the load balancer reports exactly these weights. */
  verifyWeights(weights: Weights): Promise<boolean>;
}
