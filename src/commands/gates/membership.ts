import type { Octokit } from "../github.ts";

/** Whether `login` is one of `users` or an active member of one of `teams` (`org/slug`). */
export async function isListed(octokit: Octokit, login: string, users: readonly string[], teams: readonly string[]): Promise<boolean> {
  if (users.some((user) => user.toLowerCase() === login.toLowerCase())) return true;
  for (const team of teams) {
    const [org, slug] = team.split("/") as [string, string];
    try {
      const { data } = await octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: login });
      if (data.state === "active") return true;
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
  }
  return false;
}

/** "@a, @b or a member of acme/sre" */
export function describeList(users: readonly string[], teams: readonly string[]): string {
  const named = [...users.map((user) => `@${user}`), ...teams.map((team) => `a member of ${team}`)];
  return named.length <= 1 ? (named[0] ?? "") : `${named.slice(0, -1).join(", ")} or ${named.at(-1)}`;
}
