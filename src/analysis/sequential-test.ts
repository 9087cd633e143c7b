// An anytime-valid sequential test of one count stream split between the canary and the control
// (Lindon et al. 2022, "Rapid Regression Detection in Software Deployments through Sequential
// Testing"). Counts are Poisson; given how many events happened in a window, the canary's number of
// them is binomial with p = its share of exposure weighted by its rate:
//
//   q(θ) = θ·s / (θ·s + 1 − s),   s = the canary's share of traffic, θ = canary rate / control rate.
//
// The null says θ ≤ θ0 (the tolerated ratio). The evidence is a mixture of likelihood ratios
// L(θ1)/L(θ0) over a fixed grid of alternatives on one side of θ0. Each term is a nonnegative
// supermartingale under every θ on the null side (the binomial's likelihood ratio is monotone in q),
// so their weighted mean is too, and by Ville's inequality P(it ever reaches 1/α) ≤ α, however often
// it is looked at and however the share s changes between windows (steps, the watch).

export interface SequentialTest {
  /** The null's ratio θ0. */
  nullRatio: number;
  /** Alternatives as multiples of θ0 (all > 1 to detect excess, all < 1 to detect a deficit). */
  alternatives: readonly number[];
}

/** Log likelihood ratios per alternative; all zero before any data. */
export type LogLikelihoodRatios = readonly number[];

export function noEvidence(test: SequentialTest): number[] {
  return test.alternatives.map(() => 0);
}

const shareOf = (ratio: number, share: number) => (ratio * share) / (ratio * share + 1 - share);

/**
 * Adds one window: `canary` of the events fell on the canary, `control` on the control, while the
 * canary held `share` (0..1) of the traffic. A window with no events, or a share of 0 or 1, says nothing.
 */
export function observe(test: SequentialTest, sofar: LogLikelihoodRatios, window: { canary: number; control: number; share: number }): number[] {
  const { canary, control, share } = window;
  if (!(share > 0 && share < 1) || canary + control === 0) return [...sofar];
  const q0 = shareOf(test.nullRatio, share);
  return test.alternatives.map((multiple, i) => {
    const q1 = shareOf(test.nullRatio * multiple, share);
    return sofar[i]! + canary * Math.log(q1 / q0) + control * Math.log1p(-q1) - control * Math.log1p(-q0);
  });
}

/** The e-value: the mixture's likelihood ratio, equal weights over the alternatives. */
export function eValue(logLikelihoodRatios: LogLikelihoodRatios): number {
  if (logLikelihoodRatios.length === 0) return 1;
  const top = Math.max(...logLikelihoodRatios);
  const sum = logLikelihoodRatios.reduce((total, l) => total + Math.exp(l - top), 0);
  return Math.exp(top + Math.log(sum / logLikelihoodRatios.length));
}
