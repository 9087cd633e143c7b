// TrafficRouter on an Application Load Balancer: the blue/green split is the weights of the forward
// action of a listener's default rule (ModifyListener) or of one listener rule (ModifyRule).
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
  type TargetGroupTuple,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { boundBy } from "../aws/deadline-options.ts";
import type { Colour, Weights } from "../deploy/api.ts";
import type { Deadline } from "../deploy/deadline.ts";
import type { TrafficRouter } from "./router.ts";

export interface AlbRouterOptions {
  elbv2: ElasticLoadBalancingV2Client;
  /** A listener ARN (`:listener/`) or a listener rule ARN (`:listener-rule/`). */
  arn: string;
  targetGroups: Record<Colour, string>;
}

export class AlbRouter implements TrafficRouter {
  readonly #elbv2: ElasticLoadBalancingV2Client;
  readonly #arn: string;
  readonly #isRule: boolean;
  readonly #groups: Record<Colour, string>;

  constructor(options: AlbRouterOptions) {
    this.#elbv2 = options.elbv2;
    this.#arn = options.arn;
    this.#groups = options.targetGroups;
    if (options.arn.includes(":listener-rule/")) this.#isRule = true;
    else if (options.arn.includes(":listener/")) this.#isRule = false;
    else throw new Error(`${options.arn} is neither a listener nor a listener rule ARN`);
  }

  async getWeights(): Promise<Weights> {
    return weightsOf(forwardAction(await this.#actions(), this.#arn), this.#groups, this.#arn);
  }

  async setWeights(weights: Weights, deadline?: Deadline): Promise<Weights> {
    if (weights.blue + weights.green !== 100) throw new Error(`weights must add up to 100, got ${weights.blue}/${weights.green}`);
    const operation = this.#isRule ? "ModifyRule" : "ModifyListener";
    const current = await this.#actions(deadline);
    const forward = forwardAction(current, this.#arn);
    // Already so (a repeated tick, one resumed after a crash, or a rollback of a deployment that never
    // shifted): nothing to send, not even a rewrite that names a group AWS may no longer know.
    const now = weightsOf(forward, this.#groups, this.#arn);
    if (now.blue === weights.blue && now.green === weights.green) return now;
    const reweighted = this.#reweighted(forward, weights);
    if (sameGroups(forward, reweighted)) return now;
    const actions = current.map((action) => (action === forward ? reweighted : keepSecret(action)));
    // Options taken after the read: the write gets only the time that is left.
    const options = boundBy(deadline, `${operation} to blue ${weights.blue}% / green ${weights.green}%`);
    try {
      // Everything else of the listener or rule (port, certificates, conditions) is left out, so it stays.
      // AWS answers with the listener or rule as changed: that answer is the read-back.
      const reported = this.#isRule
        ? (await this.#elbv2.send(new ModifyRuleCommand({ RuleArn: this.#arn, Actions: actions }), options)).Rules?.[0]?.Actions
        : (await this.#elbv2.send(new ModifyListenerCommand({ ListenerArn: this.#arn, DefaultActions: actions }), options)).Listeners?.[0]?.DefaultActions;
      return weightsOf(forwardAction(reported ?? (await this.#actions(deadline)), this.#arn), this.#groups, this.#arn);
    } catch (err) {
      const { name, message } = err as Error;
      throw new Error(`${operation} on ${this.#arn} to blue ${weights.blue}% / green ${weights.green}% was rejected: ${name}: ${message}`, {
        cause: err,
      });
    }
  }

  async verifyWeights(weights: Weights): Promise<boolean> {
    const actual = await this.getWeights();
    return actual.blue === weights.blue && actual.green === weights.green;
  }

  async #actions(deadline?: Deadline): Promise<Action[]> {
    const options = boundBy(deadline, "reading the weights to change");
    if (this.#isRule) {
      const out = await this.#elbv2.send(new DescribeRulesCommand({ RuleArns: [this.#arn] }), options);
      return out.Rules?.[0]?.Actions ?? [];
    }
    const out = await this.#elbv2.send(new DescribeListenersCommand({ ListenerArns: [this.#arn] }), options);
    return out.Listeners?.[0]?.DefaultActions ?? [];
  }

  /** The same action with only the two weights changed (stickiness, order and the rest kept). */
  #reweighted(action: Action, weights: Weights): Action {
    const others = refuseStrangers(action, this.#groups, this.#arn).filter((g) => !isOurs(g.TargetGroupArn, this.#groups));
    // TargetGroupArn names a single group; with two, only ForwardConfig may name them.
    const { TargetGroupArn: _single, ...rest } = action;
    const ours = [
      { TargetGroupArn: this.#groups.blue, Weight: weights.blue },
      { TargetGroupArn: this.#groups.green, Weight: weights.green },
    ];
    // With group stickiness, clients holding a colour's AWSALBTG cookie stay on it even at weight 0
    // until the cookie expires; a colour left out of the action loses them as soon as the change propagates.
    const sticky = action.ForwardConfig?.TargetGroupStickinessConfig?.Enabled === true;
    return {
      ...rest,
      ForwardConfig: {
        ...action.ForwardConfig,
        TargetGroups: [...(sticky ? ours.filter((g) => g.Weight > 0) : ours), ...others],
      },
    };
  }
}

function forwardAction(actions: Action[], arn: string): Action {
  const forward = actions.find((a) => a.Type === "forward");
  if (!forward) throw new Error(`${arn} has no forward action, so Gantry cannot shift its traffic`);
  return forward;
}

/**
 * The weighted groups of a forward action. A group other than blue and green that gets traffic is
 * someone else's: Gantry neither counts it nor takes its share away.
 */
function refuseStrangers(action: Action, groups: Record<Colour, string>, arn: string): TargetGroupTuple[] {
  const listed = action.ForwardConfig?.TargetGroups?.length
    ? action.ForwardConfig.TargetGroups
    : [{ TargetGroupArn: action.TargetGroupArn, Weight: 1 }];
  const stranger = listed.find((g) => !isOurs(g.TargetGroupArn, groups) && (g.Weight ?? 1) > 0);
  if (stranger) throw new Error(`${arn} forwards to ${stranger.TargetGroupArn}, which is neither the blue nor the green target group`);
  return listed;
}

/** Percentages of blue and green (AWS weights are relative, 0–999). */
function weightsOf(action: Action, groups: Record<Colour, string>, arn: string): Weights {
  const listed = refuseStrangers(action, groups, arn);
  const weight = (tg: string) => listed.filter((g) => g.TargetGroupArn === tg).reduce((sum, g) => sum + (g.Weight ?? 1), 0);
  const blue = weight(groups.blue);
  const total = blue + weight(groups.green);
  if (total === 0) throw new Error(`${arn} forwards no traffic to the blue or the green target group`);
  const bluePercent = Math.round((blue * 100) / total);
  return { blue: bluePercent, green: 100 - bluePercent };
}

/** Whether two forward actions send to the same groups with the same weights, in any order. */
function sameGroups(a: Action, b: Action): boolean {
  const groups = (action: Action) =>
    JSON.stringify((action.ForwardConfig?.TargetGroups ?? [{ TargetGroupArn: action.TargetGroupArn, Weight: 1 }]).map((g) => `${g.TargetGroupArn} ${g.Weight ?? 1}`).sort());
  return groups(a) === groups(b);
}

function isOurs(arn: string | undefined, groups: Record<Colour, string>): boolean {
  return arn === groups.blue || arn === groups.green;
}

/** Describe* never returns an OIDC client secret; Modify* must then be told to keep the stored one. */
function keepSecret(action: Action): Action {
  const oidc = action.AuthenticateOidcConfig;
  return oidc && oidc.ClientSecret === undefined ? { ...action, AuthenticateOidcConfig: { ...oidc, UseExistingClientSecret: true } } : action;
}
