import type { TargetGroupTiming } from "../fleet.ts";
import type { Deployment } from "../deployment-state.ts";
import { warmPollMs, type WarmLook } from "../poll-backoff.ts";
import { liveAndIdle, moveTo, rollBack, stayIn, type TickContext, type Transition } from "../tick-context.ts";

/**
 * What the target group makes a new revision wait for before ECS calls it steady: each new target
 * passes the healthy threshold of checks (one interval more for the first check's phase, plus its
 * timeout), and each task it replaces drains for the deregistration delay before ECS stops it.
 */
export function targetGroupWaitMs(timing: TargetGroupTiming): number {
  return (timing.healthyThreshold + 1) * timing.healthCheckIntervalMs + timing.healthCheckTimeoutMs + timing.deregistrationDelayMs;
}

/** Waits until the idle service runs the new revision at steady state with every target healthy. */
export async function warm(deployment: Deployment, context: TickContext): Promise<Transition> {
  const { fleet } = context.targets;
  const { idle } = liveAndIdle(deployment.state);
  const [service, health] = await Promise.all([fleet.describe(idle), fleet.targetHealth(idle)]);
  const ready =
    service.taskDefinitionArn === deployment.state.idleTaskDefinitionArn &&
    service.steady &&
    service.desiredCount > 0 &&
    health.healthy >= service.desiredCount;
  if (ready) return moveTo(deployment, context, "smoke-testing");
  // ECS's circuit breaker may fail the idle rollout and put the old revision back by itself. Once that
  // rollback completes, ECS no longer lists the failed rollout: only the other revision, steady, shows.
  if (service.taskDefinitionArn !== deployment.state.idleTaskDefinitionArn && (service.failedRollout || service.steady)) {
    const why = service.failedRollout ? ` (${service.failedRollout})` : " (or someone put another revision on the service)";
    return rollBack(
      deployment,
      context,
      "failed",
      `ECS's deployment circuit breaker failed the ${idle} service's rollout${why} and rolled it back to ${service.taskDefinitionArn}: check the service's events and stopped tasks`,
    );
  }
  const waited = context.now() - deployment.state.phaseStartedAt;
  // Only a deployment that has waited longer than tasks take to start needs the target group's settings.
  if (waited > context.timing.warmTimeoutMs) {
    const group = await fleet.targetGroupTiming(idle);
    const limitMs = context.timing.warmTimeoutMs + targetGroupWaitMs(group);
    if (waited > limitMs) {
      const s = (ms: number) => `${Math.round(ms / 1000)}s`;
      return rollBack(
        deployment,
        context,
        "failed",
        `${idle} did not become healthy within ${s(limitMs)} (${s(context.timing.warmTimeoutMs)} to start tasks, then ${group.healthyThreshold} health checks ${s(group.healthCheckIntervalMs)} apart and a ${s(group.deregistrationDelayMs)} deregistration delay, as its target group is set; ${service.runningCount}/${service.desiredCount} tasks running, ${health.healthy}/${health.total} targets healthy): check the service's events and the health check path`,
      );
    }
  }
  const { phaseStartedAt } = deployment.state;
  const registeredAfter = health.total < service.desiredCount ? context.now() : Math.max(phaseStartedAt, deployment.state.warmRegisteredAfter ?? phaseStartedAt);
  const drainingAfter = health.draining === 0 ? context.now() : Math.max(phaseStartedAt, deployment.state.warmDrainingAfter ?? phaseStartedAt);
  const look: WarmLook = {
    elapsedMs: waited,
    desiredCount: service.desiredCount,
    registered: health.total,
    healthy: health.healthy,
    draining: health.draining,
    registeredAfterMs: registeredAfter - phaseStartedAt,
    drainingAfterMs: drainingAfter - phaseStartedAt,
  };
  const waitMs = await warmPollMs(context.timing, look, () => fleet.targetGroupTiming(idle));
  return stayIn(deployment, context, waitMs, { warmRegisteredAfter: registeredAfter, warmDrainingAfter: drainingAfter });
}
