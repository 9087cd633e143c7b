import type { Deployment } from "../deployment-state.ts";
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
      const failure = await runCheck(`${baseUrl}${check.path}`, check.expectStatus, check.timeout);
      if (failure) return rollBack(deployment, context, "failed", `smoke check GET ${check.path} ${failure}`);
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

async function runCheck(url: string, expectStatus: number, timeoutMs: number): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await response.body?.cancel();
    return response.status === expectStatus ? undefined : `answered ${response.status}, expected ${expectStatus}`;
  } catch (error) {
    return `failed: ${(error as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (error as Error).message}`;
  }
}
