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

/** Both services of an environment, read once: the first reason Gantry cannot drive one of them. */
export async function undrivableFleet(fleet: ServiceFleet): Promise<string | undefined> {
  const [blue, green] = await Promise.all([fleet.describe("blue"), fleet.describe("green")]);
  return undrivableReason("blue", blue) ?? undrivableReason("green", green);
}
