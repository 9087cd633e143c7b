/**
 * How long a claim holds and when its holder stops acting, as in Kubernetes leader election
 * (leaseDuration > renewDeadline > retryPeriod): a replica gives up a third of each span before
 * another may take over, a margin for clock drift and for a request already on its way.
 */
export interface LeaseTiming {
  /** Another replica may take a deployment this long after the holder's last renewal. */
  leaseMs: number;
  /** The holder stops acting this long after the clock reading its renewal was based on. */
  renewDeadlineMs: number;
  /** How often a replica heartbeats. */
  heartbeatMs: number;
  /** A replica whose last heartbeat is older than this is dead: its leases are taken at once. */
  heartbeatStaleMs: number;
  /** A replica whose own heartbeat has not been stored for this long stops acting. */
  heartbeatDeadlineMs: number;
  /**
   * An ended deployment's final weights are read back (and repaired) this long after it ended: by
   * then a write that a replica which lost its lease had sent has landed.
   */
  finalCheckAfterMs: number;
}

export function leaseTiming(options: { leaseMs?: number; heartbeatMs?: number; finalCheckAfterMs?: number } = {}): LeaseTiming {
  const leaseMs = options.leaseMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? 3_000;
  const heartbeatStaleMs = heartbeatMs * 5;
  const timing = {
    leaseMs,
    renewDeadlineMs: Math.floor((leaseMs * 2) / 3),
    heartbeatMs,
    heartbeatStaleMs,
    heartbeatDeadlineMs: Math.floor((heartbeatStaleMs * 2) / 3),
    finalCheckAfterMs: options.finalCheckAfterMs ?? leaseMs,
  };
  if (!(timing.heartbeatMs < timing.heartbeatDeadlineMs && timing.renewDeadlineMs > 0)) {
    throw new Error(`lease timing must satisfy lease > renew deadline > 0 and heartbeat interval < heartbeat deadline: ${JSON.stringify(timing)}`);
  }
  return timing;
}
