// The test listener of an environment: smoke checks reach the idle colour through it before any
// production traffic does.
import { DescribeListenersCommand, DescribeLoadBalancersCommand, type ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Colour } from "../deploy/api.ts";
import { AlbRouter } from "./alb-router.ts";

/** Sends all of a listener's traffic to one colour in one call, keeping the rest of its action, and reads it back. */
export async function pointListenerAt(
  elbv2: ElasticLoadBalancingV2Client,
  listenerArn: string,
  targetGroups: Record<Colour, string>,
  colour: Colour,
): Promise<void> {
  const router = new AlbRouter({ elbv2, arn: listenerArn, targetGroups });
  const weights = colour === "blue" ? { blue: 100, green: 0 } : { blue: 0, green: 100 };
  await router.setWeights(weights);
  if (!(await router.verifyWeights(weights))) throw new Error(`${listenerArn} does not report 100% ${colour} after it was set`);
}

/** `http(s)://<load balancer DNS name>:<port>` of a listener, for smoke checks. */
export async function listenerBaseUrl(elbv2: ElasticLoadBalancingV2Client, listenerArn: string): Promise<string> {
  const listener = (await elbv2.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }))).Listeners?.[0];
  if (!listener?.LoadBalancerArn) throw new Error(`listener ${listenerArn} not found`);
  const lb = (await elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [listener.LoadBalancerArn] }))).LoadBalancers?.[0];
  if (!lb?.DNSName) throw new Error(`load balancer ${listener.LoadBalancerArn} of ${listenerArn} has no DNS name`);
  const scheme = listener.Protocol === "HTTPS" ? "https" : "http";
  return `${scheme}://${lb.DNSName}:${listener.Port}`;
}
