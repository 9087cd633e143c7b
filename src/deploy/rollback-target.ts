import type { Deployment } from "./deployment-state.ts";

/**
 * What `/rollback` redeploys once the old colour is gone: the newest successful deployment before the
 * live one that runs a different commit and was not itself rolled away from, so a second `/rollback`
 * goes further back instead of flipping to the commit the first one left.
 */
export function rollbackTarget(successfulNewestFirst: readonly Deployment[]): { live: Deployment; target: Deployment } | undefined {
  const [live, ...earlier] = successfulNewestFirst;
  if (!live) return undefined;
  const rolledAway = new Set(successfulNewestFirst.flatMap((deployment) => (deployment.state.rollbackOf ? [deployment.state.rollbackOf] : [])));
  const target = earlier.find((deployment) => deployment.sha !== live.sha && !rolledAway.has(deployment.id));
  return target && { live, target };
}
