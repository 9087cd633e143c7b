// Which ECS services Gantry can deploy to: only those under the ECS (rolling) deployment
// controller accept UpdateService with a new task definition.
import type { Colour } from "./api.ts";
import type { ServiceFleet, ServiceState } from "./fleet.ts";

const HOW_TO_FIX: Record<string, string> = {
  CODE_DEPLOY: "ECS refuses a new task definition for it (AWS CodeDeploy deploys it)",
  EXTERNAL: "ECS refuses a new task definition for it (its task sets are deployed by another tool)",
};

/** Why Gantry cannot drive this service, with what to change; undefined when it can. */
export function undrivableReason(colour: Colour, service: Pick<ServiceState, "deploymentController">): string | undefined {
  const type = service.deploymentController;
  if (type === "ECS") return undefined;
  const why = HOW_TO_FIX[type] ?? "ECS accepts a new task definition only under the ECS controller";
  return (
    `the ${colour} ECS service uses the ${type} deployment controller, so Gantry cannot deploy to it: ${why}. ` +
    `Give this environment services created with deploymentController type ECS (the default), or switch this service to it`
  );
}

/** How long /deploy waits for the services to be read; past it, the first tick checks them instead. */
const CHECK_WITHIN_MS = 5_000;

/**
 * Both services of an environment, read once: the first reason Gantry cannot drive one of them.
 * Undefined too when AWS does not answer in time or fails: the first tick reads them again and
 * ends the deployment there if need be, so a slow AWS never holds up or refuses a /deploy.
 */
export async function undrivableFleet(fleet: ServiceFleet): Promise<string | undefined> {
  const read = Promise.all([fleet.describe("blue"), fleet.describe("green")]).then(
    ([blue, green]) => undrivableReason("blue", blue) ?? undrivableReason("green", green),
    () => undefined,
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), CHECK_WITHIN_MS)));
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}
