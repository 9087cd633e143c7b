// One listener = one real HTTP proxy on loopback. Each request is routed by the listener's
// rules and weights as they are at that moment, to a target of the chosen group; what happened
// is recorded for CloudWatch.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { CloudWatch } from "./cloudwatch.ts";
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
    this.#server.keepAliveTimeout = 60_000;
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
    const rule = this.#ctx.rules().find((r) => r.isDefault || r.conditions.every((c) => conditionMatches(c, req)));
    const action = rule?.actions.find((a) => a.Type === "forward");
    const groupArn = rule && action ? this.#chooseGroup(rule, action) : undefined;
    const group = groupArn ? this.#ctx.targetGroup(groupArn) : undefined;
    const target = group?.pick();
    if (!group || !target) {
      this.#elbError(res, started, 503, "Service Temporarily Unavailable");
      req.resume();
      return;
    }
    target.inFlight++;
    let done = false;
    const finish = (status: number, fromTarget: boolean) => {
      if (done) return;
      done = true;
      group.release(target);
      this.#ctx.cloudwatch.record({
        at: started,
        loadBalancer: this.#ctx.loadBalancerDimension,
        targetGroup: fromTarget ? group.dimension : undefined,
        status,
        latencyMs: Date.now() - started,
      });
    };
    const upstream = request(
      { host: "127.0.0.1", port: target.port, method: req.method, path: req.url, headers: forwardedHeaders(req), agent: target.agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on("end", () => finish(up.statusCode ?? 502, true));
        up.on("error", () => {
          finish(502, false);
          res.destroy();
        });
      },
    );
    upstream.on("error", () => {
      finish(502, false);
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end("Bad Gateway");
      else res.destroy();
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

  #elbError(res: ServerResponse, started: number, status: number, text: string): void {
    res.writeHead(status, { "content-type": "text/plain" }).end(text);
    this.#ctx.cloudwatch.record({ at: started, loadBalancer: this.#ctx.loadBalancerDimension, status, latencyMs: Date.now() - started });
  }
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
