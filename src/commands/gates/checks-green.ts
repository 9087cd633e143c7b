import type { Octokit } from "../github.ts";
import { PASS, refuse, type Gate, type GateContext } from "./gate.ts";

export const TEST_CHECK_NAME = "gantry/test";
const GREEN = new Set(["success", "neutral", "skipped"]);

type CheckState = "green" | "failed" | "pending" | "missing";

/** `gantry/test` and every `ci.requiredChecks` entry are green on the commit, as check runs or statuses. */
export const checksGreenGate: Gate = {
  name: "checks green",
  async check(context) {
    const sha = context.sha!;
    const names = [TEST_CHECK_NAME, ...context.requiredChecks.filter((name) => name !== TEST_CHECK_NAME)];
    const states = await checkStates(context, sha, names);
    const notGreen = names.filter((name) => states.get(name) !== "green");
    if (notGreen.length === 0) return PASS;
    const described = notGreen.map((name) => `${name} ${WORDS[states.get(name)!]}`).join(", ");
    return refuse(
      checksGreenGate,
      `On ${sha.slice(0, 7)}: ${described}.`,
      "Wait for the checks to pass (re-run failed ones from the Checks tab), then comment again.",
    );
  },
};

const WORDS: Record<CheckState, string> = { green: "passed", failed: "failed", pending: "is still running", missing: "has not reported" };

async function checkStates(context: GateContext, sha: string, names: string[]): Promise<Map<string, CheckState>> {
  const states = new Map<string, CheckState>();
  for (const name of names) states.set(name, await checkRunState(context.octokit, context, sha, name));
  if (names.some((name) => states.get(name) === "missing")) {
    const { data } = await context.octokit.rest.repos.getCombinedStatusForRef({ owner: context.repo.owner, repo: context.repo.repo, ref: sha });
    for (const status of data.statuses) {
      if (states.get(status.context) !== "missing") continue;
      states.set(status.context, status.state === "success" ? "green" : status.state === "pending" ? "pending" : "failed");
    }
  }
  return states;
}

async function checkRunState(octokit: Octokit, { repo }: GateContext, sha: string, name: string): Promise<CheckState> {
  const { data } = await octokit.rest.checks.listForRef({
    owner: repo.owner,
    repo: repo.repo,
    ref: sha,
    check_name: name,
    filter: "latest",
  });
  const run = data.check_runs[0];
  if (!run) return "missing";
  if (run.status !== "completed") return "pending";
  return GREEN.has(run.conclusion ?? "") ? "green" : "failed";
}
