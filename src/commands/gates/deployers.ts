import { PASS, refuse, type Gate } from "./gate.ts";
import { describeList, isListed } from "./membership.ts";

/** When the environment names `deployers.users` or `deployers.teams`, the commenter is one of them. */
export const deployersGate: Gate = {
  name: "allowed deployers",
  async check({ octokit, actor, environment, environmentConfig }) {
    const { users, teams } = environmentConfig.deployers;
    if (users.length === 0 && teams.length === 0) return PASS;
    if (await isListed(octokit, actor, users, teams)) return PASS;
    const allowed = describeList(users, teams);
    return refuse(
      deployersGate,
      `Only ${allowed} may act on ${environment}.`,
      `Ask ${allowed} to run the command, or get added to \`deployers\` of ${environment} in .github/gantry.yml.`,
    );
  },
};
