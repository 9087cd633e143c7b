// Fault injection per service and operation, for a count of calls or a rate (0..1).
import type { ServiceName } from "./protocols.ts";

export type FaultKind = "throttle" | "error5xx" | "latency" | "drop";

export interface FaultSpec {
  /** Which service, or "*" for all. */
  service: ServiceName | "*";
  /** Operation name as on the wire (e.g. "UpdateService", "ModifyListener"); omitted or "*" = all. */
  operation?: string;
  kind: FaultKind;
  /** Affect the next `count` matching calls. */
  count?: number;
  /** Affect each matching call with this probability (0..1). Used when `count` is absent; default 1. */
  rate?: number;
  /** Added delay for kind "latency". */
  latencyMs?: number;
}

export interface ActiveFault extends FaultSpec {
  id: number;
  /** Calls this fault has affected so far. */
  hits: number;
}

const SERVICES = new Set(["*", "ecs", "ecr", "elbv2", "cloudwatch", "sts"]);
const KINDS = new Set(["throttle", "error5xx", "latency", "drop"]);

export class Faults {
  #faults: ActiveFault[] = [];
  #nextId = 1;

  /** Adds a fault and returns its id. */
  add(spec: FaultSpec): number {
    validate(spec);
    const fault = { ...spec, id: this.#nextId++, hits: 0 };
    this.#faults.push(fault);
    return fault.id;
  }

  remove(id: number): void {
    this.#faults = this.#faults.filter((f) => f.id !== id);
  }

  clear(): void {
    this.#faults = [];
  }

  list(): ActiveFault[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  /** The faults that fire for this call; count-limited faults are used up and then removed. */
  take(service: ServiceName, operation: string): ActiveFault[] {
    const fired = this.#faults.filter((f) => {
      if (f.service !== "*" && f.service !== service) return false;
      if (f.operation !== undefined && f.operation !== "*" && f.operation !== operation) return false;
      return f.count !== undefined ? f.hits < f.count : Math.random() < (f.rate ?? 1);
    });
    for (const f of fired) f.hits++;
    this.#faults = this.#faults.filter((f) => f.count === undefined || f.hits < f.count);
    return fired;
  }
}

function validate(spec: FaultSpec): void {
  if (!SERVICES.has(spec.service)) throw new Error(`unknown service ${String(spec.service)}`);
  if (!KINDS.has(spec.kind)) throw new Error(`unknown fault kind ${String(spec.kind)}`);
  if (spec.count !== undefined && !(Number.isInteger(spec.count) && spec.count > 0)) throw new Error("count must be a positive integer");
  if (spec.rate !== undefined && !(spec.rate >= 0 && spec.rate <= 1)) throw new Error("rate must be within 0..1");
  if (spec.kind === "latency" && !(typeof spec.latencyMs === "number" && spec.latencyMs >= 0)) throw new Error("latency needs latencyMs");
}
