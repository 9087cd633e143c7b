// Posterior arithmetic for the judge: error rates as Poisson rates with Gamma posteriors.
// A Gamma posterior of a Poisson rate is the small-rate limit of the Beta posterior of a binomial
// proportion; it makes the ratio of two rates a scaled Beta variable, so its quantiles need one
// incomplete-beta function, not a two-dimensional integral.

const EPSILON = 1e-15;
const TINY = 1e-300;
const MAX_ITERATIONS = 100_000;

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Regularized lower incomplete gamma P(a, x). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  if (!Number.isFinite(x)) return 1;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS && Math.abs(term) > Math.abs(sum) * EPSILON; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.min(1, sum * front);
  }
  // Modified Lentz continued fraction for Q, which converges fast for x > a + 1.
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.max(0, 1 - front * h);
}

/** Regularized incomplete beta I_x(a, b). */
export function betaI(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // The continued fraction converges fast on this side of the mean; use symmetry on the other.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return h;
}

/** Gamma(shape, rate) posterior of an error rate per request. */
export interface RatePosterior {
  shape: number;
  rate: number;
}

/** Weight of the shared prior, in errors. */
const PRIOR_ERRORS = 1;

/**
 * Posteriors from a prior shared by both colours: the pooled 5xx rate, worth one error. A priori the
 * canary is then as good as the control; independent vague priors instead make one stray error damning
 * (1/300 against 0/2700 read as P(worse) = 0.95) and two error-free colours look worse than not.
 */
export function ratePosteriors(
  canary: { errors: number; requests: number },
  control: { errors: number; requests: number },
): { canary: RatePosterior; control: RatePosterior } {
  const pooledRate = (canary.errors + control.errors + 0.5) / (canary.requests + control.requests);
  const priorRequests = PRIOR_ERRORS / pooledRate;
  const posterior = (s: { errors: number; requests: number }) => ({ shape: PRIOR_ERRORS + s.errors, rate: priorRequests + s.requests });
  return { canary: posterior(canary), control: posterior(control) };
}

const cdf = (p: RatePosterior, x: number) => gammaP(p.shape, p.rate * x);
const spread = (p: RatePosterior) => Math.sqrt(p.shape) / p.rate;

const BINS = 200;
const SPAN_SDS = 12;

/**
 * P(canary > ratio × control + tolerance), by quadrature over whichever posterior is narrower
 * (so the other one's CDF is smooth across each bin); bin masses are exact CDF differences, which
 * keeps the ½-shape density's pole at zero harmless.
 */
export function probabilityWorse(canary: RatePosterior, control: RatePosterior, ratio: number, tolerance: number): number {
  const overControl = ratio * spread(control) <= spread(canary);
  const outer = overControl ? control : canary;
  // Probability that the canary is worse, given the outer variable's value.
  const worseGiven = overControl
    ? (x: number) => 1 - cdf(canary, ratio * x + tolerance)
    : (y: number) => cdf(control, (y - tolerance) / ratio);
  const mean = outer.shape / outer.rate;
  const lo = Math.max(0, mean - SPAN_SDS * spread(outer));
  const hi = mean + SPAN_SDS * spread(outer);
  let previousX = lo;
  let previousCdf = cdf(outer, lo);
  let previousWorse = worseGiven(lo);
  let total = previousCdf * previousWorse;
  for (let i = 1; i <= BINS; i++) {
    const x = lo + ((hi - lo) * i) / BINS;
    const xCdf = cdf(outer, x);
    const worse = worseGiven(x);
    total += ((xCdf - previousCdf) * (previousWorse + worse)) / 2;
    [previousX, previousCdf, previousWorse] = [x, xCdf, worse];
  }
  total += (1 - previousCdf) * worseGiven(previousX);
  return Math.min(1, Math.max(0, total));
}

/**
 * Equal-tailed credible interval of canary rate / control rate. With U = rate·λ ~ Gamma(shape),
 * U_c / (U_c + U_b) ~ Beta(shape_c, shape_b), so the ratio's quantiles come from inverting I_w.
 */
export function ratioInterval(canary: RatePosterior, control: RatePosterior, mass: number): [number, number] {
  const quantile = (q: number) => {
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (betaI(mid, canary.shape, control.shape) < q) lo = mid;
      else hi = mid;
    }
    const w = (lo + hi) / 2;
    return ((w / (1 - w)) * control.rate) / canary.rate;
  };
  const tail = (1 - mass) / 2;
  return [quantile(tail), quantile(1 - tail)];
}
