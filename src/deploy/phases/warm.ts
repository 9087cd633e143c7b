import type { Deployment } from "../deployment-state.ts";
import { warmPollMs } from "../poll-backoff.ts";
import { liveAndIdle, moveTo, rollBack, stayIn, type TickContext, type Transition } from "../tick-context.ts";

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
  // ECS's circuit breaker may fail the idle rollout and put the old revision back by itself.
  if (service.failedRollout && service.taskDefinitionArn !== deployment.state.idleTaskDefinitionArn) {
    return rollBack(
      deployment,
      context,
      "failed",
      `ECS's deployment circuit breaker failed the ${idle} service's rollout (${service.failedRollout}) and rolled it back to ${service.taskDefinitionArn}: check the service's events and stopped tasks`,
    );
  }
  if (context.now() - deployment.state.phaseStartedAt > context.timing.warmTimeoutMs) {
    const seconds = Math.round(context.timing.warmTimeoutMs / 1000);
    return rollBack(
      deployment,
      context,
      "failed",
      `${idle} did not become healthy within ${seconds}s (${service.runningCount}/${service.desiredCount} tasks running, ${health.healthy}/${health.total} targets healthy): check the service's events and the health check path`,
    );
  }
  return stayIn(deployment, context, warmPollMs(context.timing, context.now() - deployment.state.phaseStartedAt));
}
