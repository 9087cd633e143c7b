import type { RequiredCheck } from "../../config/repo-config.ts";
import { PASS, refuse, type Gate, type GateContext } from "./gate.ts";

export const TEST_CHECK_NAME = "gantry/test";
const GREEN = new Set(["success", "neutral", "skipped"]);

type CheckState = "green" | "failed" | "pending" | "missing";

/** A required check as the gate reads it: whose check runs count, and whether a commit status does. */
interface Expectation {
  name: string;
  /** App id or slug that must have created the run; undefined: any app. */
  app: number | string | undefined;
  status: boolean;
}

/**
 * `gantry/test` and every `ci.requiredChecks` entry are green on the commit. A check run counts only
 * from the expected app (`gantry/test`: Gantry's own), so nobody can fake one with another app of
 * the same name; a commit status counts only where the config allows it.
 */
export const checksGreenGate: Gate = {
  name: "checks green",
  async check(context) {
    const sha = context.sha!;
    const expected = expectations(context);
    const states = await checkStates(context, sha, expected);
    const notGreen = expected.filter((check) => states.get(check.name) !== "green");
    if (notGreen.length === 0) return PASS;
    const described = notGreen.map((check) => `${check.name}${from(check)} ${WORDS[states.get(check.name)!]}`).join(", ");
    return refuse(
      checksGreenGate,
      `On ${sha.slice(0, 7)}: ${described}.`,
      "Wait for the checks to pass (re-run failed ones from the Checks tab), then comment again. A check counts only as a check run of its app (gantry/test: Gantry's own).",
    );
  },
};

const WORDS: Record<CheckState, string> = { green: "passed", failed: "failed", pending: "is still running", missing: "has not reported" };

function from(check: Expectation): string {
  return check.app === undefined || check.name === TEST_CHECK_NAME ? "" : ` (from app ${check.app})`;
}

function expectations({ appId, requiredChecks }: GateContext): Expectation[] {
  const configured = requiredChecks
    .map((check): Expectation => (typeof check === "string" ? { name: check, app: undefined, status: false } : fromConfig(check)))
    .filter((check) => check.name !== TEST_CHECK_NAME);
  return [{ name: TEST_CHECK_NAME, app: appId, status: false }, ...configured];
}

function fromConfig(check: Exclude<RequiredCheck, string>): Expectation {
  return { name: check.name, app: check.app, status: check.status };
}

async function checkStates(context: GateContext, sha: string, expected: Expectation[]): Promise<Map<string, CheckState>> {
  const states = new Map<string, CheckState>();
  for (const check of expected) states.set(check.name, await checkRunState(context, sha, check));
  const statusAllowed = expected.filter((check) => check.status && states.get(check.name) === "missing");
  if (statusAllowed.length > 0) {
    const { data } = await context.octokit.rest.repos.getCombinedStatusForRef({ owner: context.repo.owner, repo: context.repo.repo, ref: sha });
    for (const status of data.statuses) {
      if (!statusAllowed.some((check) => check.name === status.context)) continue;
      states.set(status.context, status.state === "success" ? "green" : status.state === "pending" ? "pending" : "failed");
    }
  }
  return states;
}

async function checkRunState({ octokit, repo }: GateContext, sha: string, check: Expectation): Promise<CheckState> {
  const { data } = await octokit.rest.checks.listForRef({
    owner: repo.owner,
    repo: repo.repo,
    ref: sha,
    check_name: check.name,
    filter: "latest",
    ...(typeof check.app === "number" ? { app_id: check.app } : {}),
  });
  // Filtered here as well: the app is what makes a check run worth anything.
  const run = data.check_runs.find((candidate) => check.app === undefined || candidate.app?.id === check.app || candidate.app?.slug === check.app);
  if (!run) return "missing";
  if (run.status !== "completed") return "pending";
  return GREEN.has(run.conclusion ?? "") ? "green" : "failed";
}
