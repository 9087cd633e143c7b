import type { Deployment } from "../deployment-state.ts";
import { runSmokeCheck } from "../smoke-check.ts";
import { liveAndIdle, moveTo, rollBack, stayIn, weightsOn, type TickContext, type Transition } from "../tick-context.ts";

/**
 * Smoke checks reach the idle colour through the test listener, before any user traffic does. A
 * listener change takes a while to reach every node of the load balancer: a check that names a
 * version header is asked again, on later ticks, until the new version answers or its wait is over.
 */
export async function smokeTest(deployment: Deployment, context: TickContext): Promise<Transition> {
  const { environment } = deployment.state;
  const { idle } = liveAndIdle(deployment.state);
  const listener = context.targets.testListener;
  if (environment.smoke.length > 0) {
    if (!listener) {
      return rollBack(deployment, context, "failed", "smoke checks are configured but listeners.test is not: add the test listener's ARN");
    }
    const desired = weightsOn(idle, 100);
    if (!(await listener.router.verifyWeights(desired))) {
      await listener.router.setWeights(desired, await context.guard());
    }
    const baseUrl = await listener.baseUrl();
    const waited = context.now() - deployment.state.phaseStartedAt;
    for (const check of environment.smoke) {
      const result = await runSmokeCheck(baseUrl, check, deployment.sha);
      if (result.passed) continue;
      const what = `smoke check GET ${check.host ?? ""}${check.path} ${result.why}`;
      if (!result.settling) return rollBack(deployment, context, "failed", what);
      if (waited >= check.versionWait) {
        return rollBack(deployment, context, "failed", `${what} after ${Math.round(waited / 1000)}s: the test listener never answered from the new version`);
      }
      return stayIn(deployment, context, Math.min(context.timing.pollMs, check.versionWait - waited));
    }
  }
  return moveTo(deployment, context, afterSmoke(deployment));
}

function afterSmoke(deployment: Deployment): "awaiting-approval" | "shifting" | "promoting" {
  const { environment, fastPath, approvedBy } = deployment.state;
  if (fastPath) return "promoting";
  if (environment.approval.required && !approvedBy) return "awaiting-approval";
  return environment.strategy.type === "canary" && environment.strategy.steps[0]!.weight < 100 ? "shifting" : "promoting";
}
