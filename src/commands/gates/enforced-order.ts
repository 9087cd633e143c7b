import { PASS, refuse, type Gate } from "./gate.ts";

/** Each environment in `requires` runs the same commit now, or ran it to success before. */
export const enforcedOrderGate: Gate = {
  name: "enforced order",
  async check({ controller, repo, environment, environmentConfig, sha }) {
    const required = environmentConfig.requires;
    if (required.length === 0) return PASS;
    const statuses = await controller.status(repo);
    for (const earlier of required) {
      const live = statuses.find((status) => status.environment === earlier)?.liveSha ?? null;
      if (live === sha) continue;
      const history = await controller.history(repo, earlier);
      if (history.some((deployment) => deployment.sha === sha && deployment.phase === "succeeded")) continue;
      return refuse(
        enforcedOrderGate,
        `${environment} requires ${earlier} to run ${sha!.slice(0, 7)} first; ${earlier} runs ${live ? live.slice(0, 7) : "nothing yet"}.`,
        `/deploy ${earlier} first, then /deploy ${environment}.`,
      );
    }
    return PASS;
  },
};
