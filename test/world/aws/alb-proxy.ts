// One listener = one real HTTP proxy on loopback. Each request is routed by the listener's
// rules and weights as they are at that moment, to a target of the chosen group; what happened
// is recorded for CloudWatch.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { CloudWatch, RequestSample } from "./cloudwatch.ts";
import type { TargetGroup } from "./targets.ts";

export interface ForwardAction {
  Type: string;
  TargetGroupArn?: string;
  Order?: number;
  ForwardConfig: { TargetGroups: { TargetGroupArn: string; Weight: number }[]; TargetGroupStickinessConfig?: { Enabled: boolean } };
}

export interface RuleCondition {
  Field?: string;
  Values?: string[];
  PathPatternConfig?: { Values?: string[] };
  HostHeaderConfig?: { Values?: string[] };
  HttpHeaderConfig?: { HttpHeaderName?: string; Values?: string[] };
}

export interface Rule {
  arn: string;
  priority: string;
  isDefault: boolean;
  conditions: RuleCondition[];
  actions: ForwardAction[];
}

export interface ProxyContext {
  loadBalancerDimension: string;
  /** Rules in evaluation order, the default rule last. Read on every request. */
  rules(): Rule[];
  targetGroup(arn: string): TargetGroup | undefined;
  /** The load balancer's `idle_timeout.timeout_seconds`, in ms. Read on every request. */
  idleTimeoutMs(): number;
  cloudwatch: CloudWatch;
}

export class ListenerProxy {
  readonly #server: Server;
  readonly #ctx: ProxyContext;
  // Smooth weighted round robin per rule, so the split follows the weights closely even over few requests.
  readonly #wrr = new Map<string, { key: string; current: number[] }>();

  constructor(ctx: ProxyContext) {
    this.#ctx = ctx;
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = ctx.idleTimeoutMs();
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const started = Date.now();
    const record = (outcome: Omit<RequestSample, "at" | "loadBalancer">) =>
      this.#ctx.cloudwatch.record({ at: started, loadBalancer: this.#ctx.loadBalancerDimension, ...outcome });
    const idleTimeoutMs = this.#ctx.idleTimeoutMs();
    // Idle client connections close on the same timeout, as on an ALB.
    this.#server.keepAliveTimeout = idleTimeoutMs;
    const rule = this.#ctx.rules().find((r) => r.isDefault || r.conditions.every((c) => conditionMatches(c, req)));
    const action = rule?.actions.find((a) => a.Type === "forward");
    const groupArn = rule && action ? this.#chooseGroup(rule, action) : undefined;
    const group = groupArn ? this.#ctx.targetGroup(groupArn) : undefined;
    const target = group?.pick();
    if (!group || !target) {
      // Rejected before a target was chosen: no RequestCount, only the balancer's own 503.
      record({ elbStatus: 503 });
      answer(res, 503, "Service Temporarily Unavailable");
      req.resume();
      return;
    }
    target.inFlight++;
    target.agent.idleTimeoutMs = idleTimeoutMs;
    let done = false;
    const finish = (outcome: Omit<RequestSample, "at" | "loadBalancer" | "targetGroup">) => {
      if (done) return;
      done = true;
      group.release(target);
      record({ targetGroup: group.dimension, ...outcome });
    };
    const sentAt = performance.now();
    let connected = false;
    const upstream = request(
      { host: "127.0.0.1", port: target.port, method: req.method, path: req.url, headers: forwardedHeaders(req), agent: target.agent, timeout: idleTimeoutMs },
      (up) => {
        const targetStatus = up.statusCode ?? 502;
        const targetResponseSeconds = (performance.now() - sentAt) / 1000;
        res.writeHead(targetStatus, up.headers);
        up.pipe(res);
        // The target answered; a body cut short afterwards reaches the client as a broken response.
        up.on("end", () => finish({ targetStatus, targetResponseSeconds }));
        up.on("error", () => {
          finish({ targetStatus, targetResponseSeconds });
          res.destroy();
        });
      },
    );
    upstream.on("socket", (socket) => {
      connected = !socket.connecting;
      if (!connected) socket.once("connect", () => (connected = true));
    });
    upstream.on("timeout", () => upstream.destroy(new IdleTimeout()));
    upstream.on("error", (err) => {
      if (res.headersSent) {
        finish({});
        res.destroy();
        return;
      }
      // No bytes from the target within the idle timeout → 504; a refused or reset connection → 502.
      const elbStatus = err instanceof IdleTimeout ? 504 : 502;
      finish({ elbStatus, targetConnectionError: !connected && !(err instanceof IdleTimeout) });
      answer(res, elbStatus, elbStatus === 504 ? "Gateway Time-out" : "Bad Gateway");
    });
    req.pipe(upstream);
  }

  #chooseGroup(rule: Rule, action: ForwardAction): string | undefined {
    const groups = action.ForwardConfig.TargetGroups;
    const key = groups.map((g) => `${g.TargetGroupArn}=${g.Weight}`).join(",");
    let state = this.#wrr.get(rule.arn);
    if (state?.key !== key) this.#wrr.set(rule.arn, (state = { key, current: groups.map(() => 0) }));
    const total = groups.reduce((sum, g) => sum + g.Weight, 0);
    if (total === 0) return undefined;
    let best = 0;
    groups.forEach((g, i) => {
      state.current[i] = (state.current[i] ?? 0) + g.Weight;
      if ((state.current[i] ?? 0) > (state.current[best] ?? 0)) best = i;
    });
    state.current[best] = (state.current[best] ?? 0) - total;
    return groups[best]?.TargetGroupArn;
  }
}

class IdleTimeout extends Error {}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain" }).end(text);
}

function forwardedHeaders(req: IncomingMessage): Record<string, string | string[] | undefined> {
  const remote = req.socket.remoteAddress ?? "127.0.0.1";
  const prior = req.headers["x-forwarded-for"];
  return { ...req.headers, "x-forwarded-for": prior ? `${String(prior)}, ${remote}` : remote, "x-forwarded-proto": "http" };
}

function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`, ignoreCase ? "i" : "").test(value);
}

function conditionMatches(c: RuleCondition, req: IncomingMessage): boolean {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  switch (c.Field) {
    case "path-pattern":
      return (c.PathPatternConfig?.Values ?? c.Values ?? []).some((p) => wildcard(p, path, false));
    case "host-header":
      return (c.HostHeaderConfig?.Values ?? c.Values ?? []).some((p) => wildcard(p, req.headers.host ?? "", true));
    case "http-header": {
      const raw = req.headers[(c.HttpHeaderConfig?.HttpHeaderName ?? "").toLowerCase()];
      const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
      return values.some((v) => (c.HttpHeaderConfig?.Values ?? []).some((p) => wildcard(p, v, true)));
    }
    default:
      return false;
  }
}
