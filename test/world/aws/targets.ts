// Target groups: registered targets, real HTTP health checks, and draining on deregistration.
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Duplex } from "node:stream";

export type TargetState = "initial" | "healthy" | "unhealthy" | "draining";

export interface Target {
  readonly id: string;
  readonly port: number;
  state: TargetState;
  reason?: string;
  description?: string;
  /** Requests the ALB is forwarding to this target right now. */
  inFlight: number;
  readonly agent: TargetAgent;
}

/**
 * Keep-alive connections to one target. The balancer closes a connection once it has been idle
 * for its idle timeout, before the target would (targets keep connections open longer, as AWS
 * advises), so a request never goes out on a connection the target has just closed.
 */
export class TargetAgent extends Agent {
  idleTimeoutMs = 60_000;

  constructor() {
    super({ keepAlive: true });
  }

  override keepSocketAlive(socket: Duplex): boolean {
    const keep = super.keepSocketAlive(socket) as unknown as boolean;
    if (keep && "setTimeout" in socket && typeof socket.setTimeout === "function") socket.setTimeout(this.idleTimeoutMs);
    return keep;
  }
}

interface TargetEntry extends Target {
  successes: number;
  failures: number;
  checking: boolean;
  onIdle?: () => void;
}

export interface HealthCheckSettings {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** How long a leaving target drains. */
  deregistrationDelayMs: number;
  /**
   * Whether it stays `draining` for the whole delay, as on AWS while the balancer holds connections
   * to it open, or leaves as soon as its last request ends (the fast world).
   */
  drainFully: boolean;
}

export class TargetGroup {
  readonly arn: string;
  readonly name: string;
  /** The CloudWatch dimension value: `targetgroup/name/id`. */
  readonly dimension: string;
  readonly port: number;
  readonly createdAt = new Date();
  readonly loadBalancerArns = new Set<string>();
  readonly health: HealthCheckSettings;
  #targets = new Map<string, TargetEntry>();
  #timer: NodeJS.Timeout;
  #next = 0;

  constructor(arn: string, name: string, port: number, health: HealthCheckSettings) {
    this.arn = arn;
    this.name = name;
    this.dimension = arn.slice(arn.indexOf("targetgroup/"));
    this.port = port;
    this.health = health;
    this.#timer = setInterval(() => this.#checkAll(), health.intervalMs);
    this.#timer.unref();
  }

  targets(): Target[] {
    return [...this.#targets.values()];
  }

  find(id: string, port: number): Target | undefined {
    return this.#targets.get(`${id}:${port}`);
  }

  register(id: string, port: number): void {
    const key = `${id}:${port}`;
    if (this.#targets.has(key)) return;
    this.#targets.set(key, {
      id,
      port,
      state: "initial",
      reason: "Elb.RegistrationInProgress",
      description: "Target registration is in progress",
      inFlight: 0,
      agent: new TargetAgent(),
      successes: 0,
      failures: 0,
      checking: false,
    });
  }

  /** Takes the target out of rotation, waits for its in-flight requests (bounded by the delay), then removes it. */
  async deregister(id: string, port: number): Promise<void> {
    const key = `${id}:${port}`;
    const t = this.#targets.get(key);
    if (!t) return;
    if (t.state !== "draining") {
      t.state = "draining";
      t.reason = "Target.DeregistrationInProgress";
      t.description = "Target deregistration is in progress";
    }
    if (this.health.drainFully) await sleep(this.health.deregistrationDelayMs);
    else if (t.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.health.deregistrationDelayMs);
        t.onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    t.agent.destroy();
    this.#targets.delete(key);
  }

  /** Round robin over healthy targets; if none is healthy but some are unhealthy, fail open to those (AWS does). */
  pick(): Target | undefined {
    const all = [...this.#targets.values()];
    let pool = all.filter((t) => t.state === "healthy");
    if (pool.length === 0 && !all.some((t) => t.state === "initial")) pool = all.filter((t) => t.state === "unhealthy");
    if (pool.length === 0) return undefined;
    return pool[this.#next++ % pool.length];
  }

  /** Called by the proxy when a forwarded request ends. */
  release(target: Target): void {
    target.inFlight--;
    const entry = target as TargetEntry;
    if (entry.inFlight === 0 && entry.onIdle) entry.onIdle();
  }

  close(): void {
    clearInterval(this.#timer);
    for (const t of this.#targets.values()) t.agent.destroy();
  }

  #checkAll(): void {
    for (const t of this.#targets.values()) {
      if (t.state === "draining" || t.checking) continue;
      t.checking = true;
      void probe(t.port, this.health).then((failure) => {
        t.checking = false;
        if (t.state === "draining" || failure === "inconclusive") return;
        if (failure === undefined) {
          t.failures = 0;
          t.successes++;
          if (t.successes >= this.health.healthyThreshold) {
            t.state = "healthy";
            t.reason = undefined;
            t.description = undefined;
          } else if (t.state === "initial") {
            t.reason = "Elb.InitialHealthChecking";
            t.description = "Initial health checks in progress";
          }
        } else {
          t.successes = 0;
          t.failures++;
          if (t.failures >= this.health.unhealthyThreshold) {
            t.state = "unhealthy";
            t.reason = failure.reason;
            t.description = failure.description;
          }
        }
      });
    }
  }
}

/**
 * One health check: undefined when it passed. A timeout noticed more than a whole timeout late says
 * that this process's event loop was starved, not the target (on AWS the checker is never starved
 * by its targets' neighbours), so it decides nothing.
 */
function probe(port: number, health: HealthCheckSettings): Promise<{ reason: string; description: string } | "inconclusive" | undefined> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: health.path, agent: false, timeout: health.timeoutMs }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status === 200 ? undefined : { reason: "Target.ResponseCodeMismatch", description: `Health checks failed with these codes: [${status}]` });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) => {
      if (err.message !== "timeout") resolve({ reason: "Target.FailedHealthChecks", description: "Health checks failed" });
      else if (performance.now() - started > 2 * health.timeoutMs) resolve("inconclusive");
      else resolve({ reason: "Target.Timeout", description: "Request timed out" });
    });
    req.end();
  });
}
