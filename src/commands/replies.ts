import type { AuditEntry } from "../audit/audit-log.ts";
import type { EnvironmentStatus, LockView } from "../deploy/api.ts";
import { describeDrift, describePhase, describeWeights, shortSha } from "../notify/format.ts";
import { publicText, quoteUserText } from "../notify/public-text.ts";
import { COMMAND_NAMES, USAGE } from "./command.ts";
import type { Refusal } from "./gates/gate.ts";

/** The text of every reply Gantry posts to a command. What people wrote is quoted (quoteUserText). */

function environmentsLine(environments: readonly string[], defaultEnvironment: string | undefined): string {
  if (environments.length === 0) return "This repository has no environments in `.github/gantry.yml` yet.";
  const names = environments.map((name) => (name === defaultEnvironment ? `\`${name}\` (default)` : `\`${name}\``));
  return `Environments: ${names.join(", ")}.`;
}

export function helpReply(environments: readonly string[], defaultEnvironment: string | undefined): string {
  return [
    "**Gantry commands** (at the start of a comment):",
    "",
    ...COMMAND_NAMES.map((name) => `- \`${USAGE[name]}\``),
    "",
    environmentsLine(environments, defaultEnvironment),
  ].join("\n");
}

export function invalidReply(
  problem: string,
  usage: string,
  environments: readonly string[],
  defaultEnvironment: string | undefined,
): string {
  return [`⚠️ ${problem}`, "", `The form is \`${usage}\`.`, environmentsLine(environments, defaultEnvironment)].join("\n");
}

export function refusalReply(command: string, refusal: Refusal): string {
  return [`🛑 ${quoteUserText(command)} refused by the **${refusal.gate}** gate: ${refusal.reason}`, "", `To pass: ${refusal.howToPass}`].join("\n");
}

export function describeLock(lock: LockView): string {
  const where = lock.pullRequest === null ? "" : ` from #${lock.pullRequest}`;
  const why = lock.reason ? `: ${quoteUserText(lock.reason)}` : "";
  return `🔒 ${lock.kind === "sticky" ? "locked" : "deploying"} by @${lock.holder}${where} since ${new Date(lock.since).toISOString()}${why}`;
}

export function statusReply(environments: readonly string[], statuses: readonly EnvironmentStatus[], audit: readonly AuditEntry[]): string {
  const rows = environments.map((name) => {
    const status = statuses.find((candidate) => candidate.environment === name);
    const live = status?.liveSha ? `\`${shortSha(status.liveSha)}\`${status.liveDigest ? ` (${status.liveDigest.slice(0, 19)}…)` : ""}` : "—";
    const running = status?.running
      ? `\`${shortSha(status.running.sha)}\` ${describePhase(status.running)}, by @${status.running.requestedBy} (id \`${status.running.id.slice(0, 8)}\`)`
      : "—";
    const traffic = describeWeights(status?.weights ?? null, status?.running?.liveColour ?? null);
    return `| ${name} | ${live} | ${traffic} | ${running} | ${status?.lock ? describeLock(status.lock) : "—"} |`;
  });
  const recent = audit.map(
    (entry) =>
      `- ${new Date(entry.at).toISOString()} @${entry.actor} ${quoteUserText(entry.command)} → ${entry.decision}${entry.gate ? ` (${entry.gate})` : ""}: ${publicText(entry.reason)}`,
  );
  const queued = statuses.flatMap((status) =>
    status.queued.map((view) => `- ${status.environment}: \`${shortSha(view.sha)}\` queued by @${view.requestedBy} (id \`${view.id.slice(0, 8)}\`)`),
  );
  const drifts = statuses.flatMap((status) => (status.drift?.resolution === null ? ["", `**${status.environment}**: ${describeDrift(status.drift)}`] : []));
  return [
    "| environment | live | traffic | running | lock |",
    "|---|---|---|---|---|",
    ...rows,
    ...drifts,
    ...(queued.length > 0 ? ["", "**Queued** (commands act on them only when named with `--id`)", ...queued] : []),
    ...(recent.length > 0 ? ["", "**Recent commands**", ...recent] : []),
  ].join("\n");
}
