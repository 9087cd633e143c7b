// ELBv2 (Query protocol): load balancers, listeners (each a real proxy), rules, target groups.
import { ListenerProxy, type ForwardAction, type Rule, type RuleCondition } from "./alb-proxy.ts";
import type { CloudWatch } from "./cloudwatch.ts";
import { AwsError } from "./protocols.ts";
import { TargetGroup } from "./targets.ts";
import type { Timing } from "./timing.ts";
import { randomHex } from "./ids.ts";

interface LoadBalancer {
  arn: string;
  name: string;
  /** The CloudWatch dimension value: `app/name/id`. */
  dimension: string;
  createdAt: Date;
  /** `idle_timeout.timeout_seconds`, kept in ms so tests can go below a second. */
  idleTimeoutMs: number;
}

interface Listener {
  arn: string;
  loadBalancerArn: string;
  port: number;
  /** What Describe* shows: every change at once. */
  rules: Rule[];
  /** What requests follow: each change once it has propagated. */
  routed: Rule[];
  proxy: ListenerProxy;
}

type Params = Record<string, unknown>;

const MAX_WEIGHT = 999;
const IDLE_TIMEOUT_ATTRIBUTE = "idle_timeout.timeout_seconds";
/** How often HealthyHostCount and UnHealthyHostCount are sampled. */
const HOST_COUNT_EVERY_MS = 1000;

const MAX_GROUPS_PER_ACTION = 5;

export class Elbv2 {
  readonly #prefix: string;
  readonly #cloudwatch: CloudWatch;
  readonly #timing: Timing;
  readonly #hostCounts: NodeJS.Timeout;
  readonly #loadBalancers = new Map<string, LoadBalancer>();
  readonly #listeners = new Map<string, Listener>();
  readonly #targetGroups = new Map<string, TargetGroup>();

  constructor(region: string, accountId: string, cloudwatch: CloudWatch, timing: Timing) {
    this.#prefix = `arn:aws:elasticloadbalancing:${region}:${accountId}`;
    this.#cloudwatch = cloudwatch;
    this.#timing = timing;
    this.#hostCounts = setInterval(() => this.#recordHostCounts(), HOST_COUNT_EVERY_MS);
    this.#hostCounts.unref();
  }

  createLoadBalancer(name: string): LoadBalancer {
    const id = randomHex(16);
    const lb = {
      arn: `${this.#prefix}:loadbalancer/app/${name}/${id}`,
      name,
      dimension: `app/${name}/${id}`,
      createdAt: new Date(),
      idleTimeoutMs: this.#timing.idleTimeoutMs,
    };
    this.#loadBalancers.set(lb.arn, lb);
    return lb;
  }

  createTargetGroup(name: string, port: number, healthCheckPath: string): TargetGroup {
    const tg = new TargetGroup(`${this.#prefix}:targetgroup/${name}/${randomHex(16)}`, name, port, {
      ...this.#timing.health,
      path: healthCheckPath,
      drainFully: this.#timing.drainFully,
    });
    this.#targetGroups.set(tg.arn, tg);
    return tg;
  }

  async createListener(loadBalancerArn: string, defaultActions: unknown[]): Promise<{ arn: string; port: number }> {
    const lb = this.#loadBalancers.get(loadBalancerArn);
    if (!lb) throw new AwsError("LoadBalancerNotFound", `Load balancers '[${loadBalancerArn}]' not found`);
    const base = lb.arn.replace(":loadbalancer/", ":listener/") + `/${randomHex(16)}`;
    const listener: Listener = {
      arn: base,
      loadBalancerArn,
      port: 0,
      rules: [],
      routed: [],
      proxy: new ListenerProxy({
        loadBalancerDimension: lb.dimension,
        rules: () => listener.routed,
        targetGroup: (arn) => this.#targetGroups.get(arn),
        idleTimeoutMs: () => lb.idleTimeoutMs,
        cloudwatch: this.#cloudwatch,
      }),
    };
    listener.rules.push({
      arn: this.#ruleArn(listener),
      priority: "default",
      isDefault: true,
      conditions: [],
      actions: this.#validateActions(defaultActions, lb),
    });
    listener.routed = snapshot(listener.rules);
    listener.port = await listener.proxy.listen();
    this.#listeners.set(listener.arn, listener);
    return { arn: listener.arn, port: listener.port };
  }

  /** Adds a non-default rule to a listener. */
  createRule(listenerArn: string, priority: number, conditions: RuleCondition[], actions: unknown[]): string {
    const listener = this.#listener(listenerArn);
    const rule: Rule = {
      arn: this.#ruleArn(listener),
      priority: String(priority),
      isDefault: false,
      conditions,
      actions: this.#validateActions(actions, this.#lbOf(listener)),
    };
    listener.rules = [...listener.rules.filter((r) => !r.isDefault), rule]
      .toSorted((a, b) => Number(a.priority) - Number(b.priority))
      .concat(listener.rules.filter((r) => r.isDefault));
    this.#propagate(listener);
    return rule.arn;
  }

  targetGroup(arn: string): TargetGroup | undefined {
    return this.#targetGroups.get(arn);
  }

  async close(): Promise<void> {
    clearInterval(this.#hostCounts);
    for (const tg of this.#targetGroups.values()) tg.close();
    await Promise.all([...this.#listeners.values()].map((l) => l.proxy.close()));
  }

  handlers(): Record<string, (p: Params) => Params> {
    return {
      DescribeLoadBalancers: (p) => {
        const arns = strings(p.LoadBalancerArns);
        const names = strings(p.Names);
        let lbs = [...this.#loadBalancers.values()];
        if (arns.length) lbs = arns.map((a) => this.#loadBalancers.get(a) ?? notFound("LoadBalancerNotFound", `Load balancers '[${a}]' not found`));
        if (names.length) lbs = names.map((n) => lbs.find((l) => l.name === n) ?? notFound("LoadBalancerNotFound", `Load balancers '[${n}]' not found`));
        return { LoadBalancers: lbs.map((lb) => this.#describeLb(lb)) };
      },
      DescribeLoadBalancerAttributes: (p) => ({ Attributes: describeAttributes(this.#loadBalancer(str(p.LoadBalancerArn) ?? ""), this.#timing) }),
      ModifyLoadBalancerAttributes: (p) => {
        const lb = this.#loadBalancer(str(p.LoadBalancerArn) ?? "");
        const attributes = list(p.Attributes) as { Key?: string; Value?: string }[];
        for (const { Key, Value } of attributes) {
          if (Key !== IDLE_TIMEOUT_ATTRIBUTE) {
            throw new AwsError("ValidationError", `Attribute '${Key}' is not supported by the emulator (only ${IDLE_TIMEOUT_ATTRIBUTE})`);
          }
          const seconds = Number(Value);
          if (!Number.isInteger(seconds) || seconds < 1 || seconds > 4000) {
            throw new AwsError("ValidationError", `The value of '${IDLE_TIMEOUT_ATTRIBUTE}' must be an integer between 1 and 4000`);
          }
        }
        for (const { Value } of attributes) lb.idleTimeoutMs = this.#timing.realMs(Number(Value));
        return { Attributes: describeAttributes(lb, this.#timing) };
      },
      DescribeListeners: (p) => {
        const arns = strings(p.ListenerArns);
        const lbArn = str(p.LoadBalancerArn);
        if (!arns.length && !lbArn) throw new AwsError("ValidationError", "You must specify either listener ARNs or a load balancer ARN");
        let listeners: Listener[];
        if (arns.length) listeners = arns.map((a) => this.#listener(a));
        else {
          if (!this.#loadBalancers.has(lbArn ?? "")) notFound("LoadBalancerNotFound", `Load balancers '[${lbArn}]' not found`);
          listeners = [...this.#listeners.values()].filter((l) => l.loadBalancerArn === lbArn);
        }
        return { Listeners: listeners.map((l) => describeListener(l)) };
      },
      DescribeRules: (p) => {
        const arns = strings(p.RuleArns);
        const listenerArn = str(p.ListenerArn);
        if (!arns.length && !listenerArn) throw new AwsError("ValidationError", "You must specify either listener ARN or rule ARNs");
        const rules = arns.length ? arns.map((a) => this.#rule(a).rule) : this.#listener(listenerArn ?? "").rules;
        return { Rules: rules.map(describeRule) };
      },
      ModifyListener: (p) => {
        const listener = this.#listener(str(p.ListenerArn) ?? "");
        if (p.Port !== undefined && Number(p.Port) !== listener.port) {
          throw new AwsError("ValidationError", "The emulator cannot move a listener to another port");
        }
        if (p.Protocol !== undefined && p.Protocol !== "HTTP") throw new AwsError("ValidationError", "The emulator supports HTTP listeners only");
        if (p.DefaultActions !== undefined) {
          const actions = this.#validateActions(list(p.DefaultActions), this.#lbOf(listener));
          const defaultRule = listener.rules.find((r) => r.isDefault);
          if (defaultRule) defaultRule.actions = actions;
          this.#propagate(listener);
        }
        return { Listeners: [describeListener(listener)] };
      },
      ModifyRule: (p) => {
        const { rule, listener } = this.#rule(str(p.RuleArn) ?? "");
        // As on AWS: the default rule changes through ModifyListener only.
        if (rule.isDefault) throw new AwsError("OperationNotPermitted", `Default rule '${rule.arn}' cannot be modified`);
        if (p.Actions !== undefined) rule.actions = this.#validateActions(list(p.Actions), this.#lbOf(listener));
        if (p.Conditions !== undefined) rule.conditions = list(p.Conditions) as RuleCondition[];
        this.#propagate(listener);
        return { Rules: [describeRule(rule)] };
      },
      DescribeTargetGroups: (p) => {
        const arns = strings(p.TargetGroupArns);
        const names = strings(p.Names);
        const lbArn = str(p.LoadBalancerArn);
        let groups = [...this.#targetGroups.values()];
        if (arns.length) groups = arns.map((a) => this.#group(a));
        if (names.length) groups = names.map((n) => groups.find((g) => g.name === n) ?? notFound("TargetGroupNotFound", `One or more target groups not found`));
        if (lbArn) {
          if (!this.#loadBalancers.has(lbArn)) notFound("LoadBalancerNotFound", `Load balancers '[${lbArn}]' not found`);
          groups = groups.filter((g) => g.loadBalancerArns.has(lbArn));
        }
        return { TargetGroups: groups.map((g) => describeGroup(g, this.#timing.awsSeconds)) };
      },
      DescribeTargetHealth: (p) => {
        const group = this.#group(str(p.TargetGroupArn) ?? "");
        const asked = list(p.Targets) as { Id?: string; Port?: string }[];
        const descriptions = asked.length
          ? asked.map((t) => {
              const port = Number(t.Port ?? group.port);
              const found = group.find(t.Id ?? "", port);
              if (!found) throw new AwsError("InvalidTarget", `The following targets are not registered: '${t.Id}:${port}'`);
              return found;
            })
          : group.targets();
        return {
          TargetHealthDescriptions: descriptions.map((t) => ({
            Target: { Id: t.id, Port: t.port, AvailabilityZone: "all" },
            HealthCheckPort: String(t.port),
            TargetHealth: { State: t.state, Reason: t.reason, Description: t.description },
          })),
        };
      },
    };
  }

  /** Normalises forward actions the way AWS reports them, rejecting what AWS rejects. */
  #validateActions(raw: unknown[], lb: LoadBalancer): ForwardAction[] {
    if (raw.length === 0) throw new AwsError("ValidationError", "At least one action must be specified");
    const actions = raw.map((a): ForwardAction => {
      const action = a as { Type?: string; TargetGroupArn?: string; Order?: unknown; ForwardConfig?: { TargetGroups?: unknown } };
      if (action.Type !== "forward") {
        throw new AwsError("ValidationError", `Action type '${action.Type}' is not supported by the emulator (forward only)`);
      }
      const listed = list(action.ForwardConfig?.TargetGroups) as { TargetGroupArn?: string; Weight?: unknown }[];
      const groups = listed.length ? listed : action.TargetGroupArn ? [{ TargetGroupArn: action.TargetGroupArn, Weight: 1 }] : [];
      if (groups.length === 0) throw new AwsError("ValidationError", "A forward action must specify a target group");
      if (groups.length > MAX_GROUPS_PER_ACTION) {
        throw new AwsError("ValidationError", `A forward action can have at most ${MAX_GROUPS_PER_ACTION} target groups`);
      }
      if (action.TargetGroupArn && (groups.length !== 1 || groups[0]?.TargetGroupArn !== action.TargetGroupArn)) {
        throw new AwsError("ValidationError", "TargetGroupArn and ForwardConfig must name the same single target group");
      }
      const weighted = groups.map((g) => {
        const weight = g.Weight === undefined ? 1 : Number(g.Weight);
        if (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
          throw new AwsError("ValidationError", `Target group weight must be between 0 and ${MAX_WEIGHT}`);
        }
        this.#group(g.TargetGroupArn ?? "");
        return { TargetGroupArn: g.TargetGroupArn ?? "", Weight: weight };
      });
      if (new Set(weighted.map((g) => g.TargetGroupArn)).size !== weighted.length) {
        throw new AwsError("ValidationError", "A target group can appear only once in a forward action");
      }
      return {
        Type: "forward",
        TargetGroupArn: weighted.length === 1 ? weighted[0]?.TargetGroupArn : undefined,
        Order: action.Order === undefined ? undefined : Number(action.Order),
        ForwardConfig: { TargetGroups: weighted, TargetGroupStickinessConfig: { Enabled: false } },
      };
    });
    if (actions.length > 1) throw new AwsError("TooManyActions", "A rule can have only one forward action");
    for (const g of actions.flatMap((a) => a.ForwardConfig.TargetGroups)) this.#group(g.TargetGroupArn).loadBalancerArns.add(lb.arn);
    return actions;
  }

  /** Requests follow the listener's rules as they are now once the propagation delay has passed. */
  #propagate(listener: Listener): void {
    const rules = snapshot(listener.rules);
    if (this.#timing.propagationDelayMs === 0) listener.routed = rules;
    else setTimeout(() => (listener.routed = rules), this.#timing.propagationDelayMs).unref();
  }

  #ruleArn(listener: Listener): string {
    return listener.arn.replace(":listener/", ":listener-rule/") + `/${randomHex(16)}`;
  }

  /** HealthyHostCount / UnHealthyHostCount of every target group behind a load balancer. */
  #recordHostCounts(): void {
    const at = Date.now();
    for (const group of this.#targetGroups.values()) {
      const states = group.targets().map((t) => t.state);
      for (const arn of group.loadBalancerArns) {
        const lb = this.#loadBalancers.get(arn);
        if (!lb) continue;
        this.#cloudwatch.recordHosts({
          at,
          loadBalancer: lb.dimension,
          targetGroup: group.dimension,
          healthy: states.filter((s) => s === "healthy").length,
          unhealthy: states.filter((s) => s === "unhealthy").length,
        });
      }
    }
  }

  #loadBalancer(arn: string): LoadBalancer {
    return this.#loadBalancers.get(arn) ?? notFound("LoadBalancerNotFound", `Load balancers '[${arn}]' not found`);
  }

  #lbOf(listener: Listener): LoadBalancer {
    return this.#loadBalancers.get(listener.loadBalancerArn) as LoadBalancer;
  }

  #listener(arn: string): Listener {
    return this.#listeners.get(arn) ?? notFound("ListenerNotFound", `One or more listeners not found`);
  }

  #rule(arn: string): { rule: Rule; listener: Listener } {
    for (const listener of this.#listeners.values()) {
      const rule = listener.rules.find((r) => r.arn === arn);
      if (rule) return { rule, listener };
    }
    return notFound("RuleNotFound", "One or more rules not found");
  }

  #group(arn: string): TargetGroup {
    return this.#targetGroups.get(arn) ?? notFound("TargetGroupNotFound", `Target groups '${arn}' not found`);
  }

  #describeLb(lb: LoadBalancer): Params {
    return {
      LoadBalancerArn: lb.arn,
      DNSName: "127.0.0.1",
      CanonicalHostedZoneId: "Z35SXDOTRQ7X7K",
      CreatedTime: lb.createdAt,
      LoadBalancerName: lb.name,
      Scheme: "internet-facing",
      VpcId: "vpc-emulator",
      State: { Code: "active" },
      Type: "application",
      AvailabilityZones: [],
      SecurityGroups: [],
      IpAddressType: "ipv4",
    };
  }
}

/** Rules as they stand: handlers replace a rule's actions and conditions, never change them in place. */
function snapshot(rules: Rule[]): Rule[] {
  return rules.map((r) => ({ ...r }));
}

function describeListener(l: Listener): Params {
  return {
    ListenerArn: l.arn,
    LoadBalancerArn: l.loadBalancerArn,
    Port: l.port,
    Protocol: "HTTP",
    DefaultActions: l.rules.find((r) => r.isDefault)?.actions ?? [],
  };
}

function describeAttributes(lb: LoadBalancer, timing: Timing): Params[] {
  return [{ Key: IDLE_TIMEOUT_ATTRIBUTE, Value: String(timing.awsSeconds(lb.idleTimeoutMs)) }];
}

function describeRule(r: Rule): Params {
  return { RuleArn: r.arn, Priority: r.priority, Conditions: r.conditions, Actions: r.actions, IsDefault: r.isDefault };
}

function describeGroup(g: TargetGroup, awsSeconds: (ms: number) => number): Params {
  return {
    TargetGroupArn: g.arn,
    TargetGroupName: g.name,
    Protocol: "HTTP",
    Port: g.port,
    VpcId: "vpc-emulator",
    HealthCheckProtocol: "HTTP",
    HealthCheckPort: "traffic-port",
    HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: awsSeconds(g.health.intervalMs),
    HealthCheckTimeoutSeconds: awsSeconds(g.health.timeoutMs),
    HealthyThresholdCount: g.health.healthyThreshold,
    UnhealthyThresholdCount: g.health.unhealthyThreshold,
    HealthCheckPath: g.health.path,
    Matcher: { HttpCode: "200" },
    LoadBalancerArns: [...g.loadBalancerArns],
    TargetType: "ip",
    ProtocolVersion: "HTTP1",
    IpAddressType: "ipv4",
  };
}

function notFound(code: string, message: string): never {
  throw new AwsError(code, message);
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function strings(v: unknown): string[] {
  return list(v).map(String);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
