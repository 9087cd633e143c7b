import type { DeploymentView, Verdict } from "../deploy/api.ts";
import { describePhase, describeWeights, shortSha, utcTime } from "../notify/format.ts";

/** A Slack message as Gantry sends it: text for notifications and screen readers, blocks to show. */
export interface SlackMessageBody {
  text: string;
  blocks: Record<string, unknown>[];
}

/** Where the message's links point, once GitHub has the objects (filled in by later updates otherwise). */
export interface MessageLinks {
  pullRequest: string | null;
  statusComment: string | null;
  deployment: string | null;
}

export const ACTION = { approve: "gantry_approve", reject: "gantry_reject", rollback: "gantry_rollback" } as const;

/** Slack's mrkdwn reads `&`, `<` and `>` as markup: text people wrote is escaped so it cannot mention or link. */
export const escapeMrkdwn = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const HEADLINE: Partial<Record<DeploymentView["phase"], string>> = {
  queued: "⏳ Queued",
  "awaiting-approval": "✋ Waiting for approval",
  cooling: "✅ Live",
  succeeded: "✅ Deployed",
  "rolling-back": "↩️ Rolling back",
  "rolled-back": "↩️ Rolled back",
  failed: "❌ Failed",
  aborted: "⏹️ Aborted",
};

/** Buttons that may act on the deployment now; a decided one shows who decided instead. */
function actions(view: DeploymentView): Record<string, unknown>[] {
  if (view.phase === "awaiting-approval") {
    return [
      { type: "button", action_id: ACTION.approve, text: { type: "plain_text", text: "Approve" }, style: "primary", value: view.id },
      {
        type: "button",
        action_id: ACTION.reject,
        text: { type: "plain_text", text: "Reject" },
        style: "danger",
        value: view.id,
        confirm: confirm("Reject this deployment?", `The deployment of ${shortSha(view.sha)} to ${view.environment} stops and the environment is let go.`, "Reject"),
      },
    ];
  }
  if (view.phase === "cooling" || view.phase === "succeeded" || view.phase === "failed") {
    // A failed deployment left traffic on the environment's live deployment: its button rolls that one back.
    const text =
      view.phase === "failed"
        ? `${view.environment}'s live deployment goes back to the one before it, as /rollback ${view.environment} would.`
        : `Traffic goes back to what ran before ${shortSha(view.sha)}.`;
    return [
      {
        type: "button",
        action_id: ACTION.rollback,
        text: { type: "plain_text", text: "Roll back" },
        style: "danger",
        value: view.id,
        confirm: confirm(`Roll back ${view.environment}?`, text, "Roll back"),
      },
    ];
  }
  return [];
}

function confirm(title: string, text: string, yes: string): Record<string, unknown> {
  return { title: { type: "plain_text", text: title }, text: { type: "plain_text", text }, confirm: { type: "plain_text", text: yes }, deny: { type: "plain_text", text: "Cancel" } };
}

function approvalLine(view: DeploymentView): string | null {
  const approval = view.approval;
  if (!approval) return null;
  const given = approval.by.map((approver) => `@${escapeMrkdwn(approver.by)} at ${utcTime(approver.at)}`);
  if (view.phase === "awaiting-approval") {
    const missing = approval.required - approval.by.length;
    const until = approval.until === null ? "" : ` until ${utcTime(approval.until)}`;
    return `✋ Needs ${missing} more approval${missing === 1 ? "" : "s"}${until}${given.length > 0 ? ` (approved by ${given.join(", ")})` : ""}. Approve here or \`/approve ${view.environment}\` on the pull request.`;
  }
  return given.length > 0 ? `✅ Approved by ${given.join(", ")}` : null;
}

function verdictLine(verdict: Verdict): string {
  const mark = { pass: "✅", fail: "❌", inconclusive: "⏸️" }[verdict.decision];
  const side = (sample: Verdict["canary"]) => `${sample.errors}/${sample.requests} failed${sample.p99Ms === null ? "" : `, p99 ${Math.round(sample.p99Ms)} ms`}`;
  const evidence = verdict.evidence === null ? "" : `; evidence ${verdict.evidence < 1000 ? verdict.evidence.toFixed(2) : verdict.evidence.toExponential(1)}`;
  return `${mark} step ${verdict.step + 1}: canary ${side(verdict.canary)} · control ${side(verdict.control)}${evidence}`;
}

/** One deployment's message, rendered whole from its latest view: readable on a phone (short lines, two-column fields). */
export function renderDeploymentMessage(view: DeploymentView, links: MessageLinks): SlackMessageBody {
  const repo = `${view.repo.owner}/${view.repo.repo}`;
  const headline = `${HEADLINE[view.phase] ?? "🚧 Deploying"}: \`${shortSha(view.sha)}\` to *${escapeMrkdwn(view.environment)}* (${escapeMrkdwn(repo)})`;
  const fields = [
    `*Phase*\n${describePhase(view)}`,
    `*Traffic*\n${describeWeights(view.weights, view.liveColour)}`,
    `*Requested by*\n@${escapeMrkdwn(view.requestedBy)}`,
    ...(view.timeToRestoreMs !== null ? [`*Time to restore*\n${(view.timeToRestoreMs / 1000).toFixed(1)} s`] : []),
  ];
  const blocks: Record<string, unknown>[] = [
    { type: "section", text: { type: "mrkdwn", text: headline } },
    { type: "section", fields: fields.map((text) => ({ type: "mrkdwn", text })) },
  ];
  if (view.reason) blocks.push({ type: "section", text: { type: "mrkdwn", text: `*Why it stopped:* ${escapeMrkdwn(view.reason)}` } });
  const approval = approvalLine(view);
  if (approval) blocks.push({ type: "section", text: { type: "mrkdwn", text: approval } });
  // The latest looks only: the status comment on the pull request keeps every verdict.
  const verdicts = view.verdicts.slice(-3).map(verdictLine);
  if (verdicts.length > 0) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: verdicts.join("\n") }] });
  const linkTexts = [
    links.pullRequest && view.pullRequest !== null && `<${links.pullRequest}|#${view.pullRequest}>`,
    links.statusComment && `<${links.statusComment}|status comment>`,
    links.deployment && `<${links.deployment}|GitHub Deployment>`,
  ].filter((link): link is string => typeof link === "string");
  if (linkTexts.length > 0) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: linkTexts.join(" · ") }] });
  const buttons = actions(view);
  if (buttons.length > 0) blocks.push({ type: "actions", block_id: `gantry:${view.id}`, elements: buttons });
  const text = `${HEADLINE[view.phase] ?? "Deploying"}: ${shortSha(view.sha)} to ${view.environment} (${repo}), ${describePhase(view)}`;
  return { text, blocks };
}

export interface TestFailure {
  repo: { owner: string; repo: string };
  sha: string;
  branch: string;
  /** One line: what failed, e.g. "3 of 412 tests failed in shard 2/4". */
  summary: string;
  /** The `gantry/test` check run on GitHub. */
  checkRunUrl: string | null;
}

export function renderTestFailure(failure: TestFailure): SlackMessageBody {
  const repo = `${failure.repo.owner}/${failure.repo.repo}`;
  const headline = `❌ \`gantry/test\` failed on *${escapeMrkdwn(failure.branch)}* of ${escapeMrkdwn(repo)} at \`${shortSha(failure.sha)}\``;
  const blocks: Record<string, unknown>[] = [
    { type: "section", text: { type: "mrkdwn", text: headline } },
    { type: "section", text: { type: "mrkdwn", text: escapeMrkdwn(failure.summary) } },
  ];
  if (failure.checkRunUrl) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `<${failure.checkRunUrl}|check run>` }] });
  return { text: `gantry/test failed on ${failure.branch} of ${repo} at ${shortSha(failure.sha)}`, blocks };
}
