import type { DeploymentView, Verdict } from "../deploy/api.ts";
import { describeApproval, describeDrift, describePhase, describeWeights, shortSha } from "./format.ts";

export interface StatusLinks {
  checkRun: string | null;
  dashboard: string | null;
}

const HEADLINE: Partial<Record<DeploymentView["phase"], string>> = {
  queued: "⏳ Queued:",
  cooling: "✅ Live:",
  succeeded: "✅ Deployed",
  "rolled-back": "↩️ Rolled back:",
  failed: "❌ Failed:",
  aborted: "⏹️ Aborted:",
};

/** The one status comment of a deployment, rendered whole from its latest view each time. */
export function renderStatusComment(view: DeploymentView, links: StatusLinks): string {
  const rows = [
    ["phase", describePhase(view)],
    ["traffic", describeWeights(view.weights, view.liveColour)],
    ["image", view.imageDigest ? `\`${view.imageDigest}\`` : "resolving"],
    ["requested by", `@${view.requestedBy}`],
    ...(view.approval ? [["approval", describeApproval(view)]] : []),
    ...(view.reason ? [["why it stopped", view.reason]] : []),
    ...(view.timeToRestoreMs !== null ? [["time to restore", `${(view.timeToRestoreMs / 1000).toFixed(1)} s`]] : []),
    ...(view.drift ? [["drift", describeDrift(view.drift)]] : []),
  ];
  const linkLine = [
    links.checkRun && `[check run](${links.checkRun})`,
    links.dashboard && `[dashboard](${links.dashboard})`,
  ].filter(Boolean);
  return [
    `<!-- gantry:deployment ${view.id} -->`,
    `### ${HEADLINE[view.phase] ?? "🚧 Deploying"} \`${shortSha(view.sha)}\` to **${view.environment}**`,
    "",
    "| | |",
    "|---|---|",
    ...rows.map(([key, value]) => `| ${key} | ${value} |`),
    ...(view.verdicts.length > 0 ? ["", "**Verdicts** (canary vs control, same window)", "", ...verdictTable(view.verdicts)] : []),
    ...(linkLine.length > 0 ? ["", linkLine.join(" · ")] : []),
  ].join("\n");
}

const DECISION: Record<Verdict["decision"], string> = { pass: "✅ pass", fail: "❌ fail", inconclusive: "⏸️ inconclusive" };

function verdictTable(verdicts: readonly Verdict[]): string[] {
  return [
    "| step | window (UTC) | data read | verdict | canary | control | evidence | why |",
    "|---|---|---|---|---|---|---|---|",
    ...verdicts.map((verdict) =>
      [
        verdict.step + 1,
        `${clock(verdict.windowStart)}–${clock(verdict.windowEnd)}`,
        verdict.readAt === undefined ? "—" : `${clock(verdict.readAt)} (+${Math.round((verdict.readAt - verdict.windowEnd) / 1000)} s)`,
        DECISION[verdict.decision],
        sample(verdict.canary),
        sample(verdict.control),
        verdict.evidence === null ? "—" : Number(verdict.evidence.toPrecision(2)).toString(),
        verdict.reason,
      ].join(" | "),
    ).map((row) => `| ${row} |`),
  ];
}

/** `14:03:00`: the time of day a CloudWatch minute starts or ends, in UTC as the AWS console shows it. */
function clock(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19);
}

function sample({ requests, errors, p99Ms }: Verdict["canary"]): string {
  const rate = requests === 0 ? "—" : `${((errors / requests) * 100).toFixed(2)}%`;
  return `${errors}/${requests} failed (${rate}), p99 ${p99Ms === null ? "—" : `${Math.round(p99Ms)} ms`}`;
}
