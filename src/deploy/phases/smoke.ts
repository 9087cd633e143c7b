import type { Deployment } from "../deployment-state.ts";
import { runSmokeCheck } from "../smoke-check.ts";
import { liveAndIdle, moveTo, rollBack, weightsOn, type TickContext, type Transition } from "../tick-context.ts";

/** Smoke checks reach the idle colour through the test listener, before any user traffic does. */
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
    for (const check of environment.smoke) {
      const failure = await runSmokeCheck(baseUrl, check);
      if (failure) return rollBack(deployment, context, "failed", `smoke check GET ${check.host ?? ""}${check.path} ${failure}`);
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
