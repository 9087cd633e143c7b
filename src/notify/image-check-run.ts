import type { ProbotOctokit } from "probot";
import type { ImageBuildRow, ImageBuildStore, ImageBuildView } from "../images/build-store.ts";
import { toImageBuildView } from "../images/build-store.ts";
import type { Store } from "../store/open-store.ts";
import type { CheckRunState } from "./github-states.ts";
import { createCheckRun, updateCheckRun } from "./github-writes.ts";
import { PRIORITY, type GitHubOutbox, type OutboxSubject } from "./outbox-store.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export const IMAGE_CHECK_NAME = "gantry/image";

function imageSubject(view: Pick<ImageBuildView, "id" | "repo">): OutboxSubject {
  return { key: `image:${view.id}`, installationId: view.repo.installationId, kind: "image" };
}

/** Records a build's change in the outbox, inside the transaction that saves it; the drain sends the check run. */
export function recordImageChange(outbox: GitHubOutbox, now: () => number = Date.now) {
  return async (row: ImageBuildRow, within: Store["db"]): Promise<void> => {
    const view = toImageBuildView(row, now());
    await outbox.record(imageSubject(view), JSON.stringify(view), PRIORITY.normal, within);
  };
}

function checkRunState(view: ImageBuildView): CheckRunState {
  if (view.status === "requested") return { status: "queued" };
  if (view.status === "building") return { status: "in_progress" };
  return { status: "completed", conclusion: view.status === "succeeded" ? "success" : "failure" };
}

/** "3m 12s", "45s". */
function buildDuration(ms: number): string {
  const seconds = Math.round(ms / 1_000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

function output(view: ImageBuildView): { title: string; summary: string } {
  const tag = `\`${view.ecrRepository}:${view.sha}\``;
  const logs = view.logsUrl ? `\n\n[Build log](${view.logsUrl})` : "";
  switch (view.status) {
    case "requested":
      return { title: "Image: waiting for a builder", summary: `Gantry builds ${tag} once; this check follows it.` };
    case "building":
      return { title: `Image: building with ${view.builder ?? "the builder"}`, summary: `Building ${tag} from \`${view.sha}\`.${logs}` };
    case "succeeded": {
      const digest = `\`${view.digest ?? "?"}\``;
      if (view.builder === "existing") {
        return { title: `Image reused: ${view.digest?.slice(0, 19) ?? ""}…`, summary: `ECR already held ${tag}: nothing was built.\n\nDigest: ${digest}. Deployments run this digest.` };
      }
      const took = view.durationMs === null ? "" : ` in ${buildDuration(view.durationMs)}`;
      return {
        title: `Image built${took}: ${view.digest?.slice(0, 19) ?? ""}…`,
        summary: `Built ${tag}${took} with ${view.builder ?? "the builder"}.\n\nDigest: ${digest}. Deployments run this digest; promotion adds a tag and never rebuilds.${logs}`,
      };
    }
    case "failed":
      return { title: "Image build failed", summary: `${tag} was not built: ${view.reason ?? "no reason given"}${logs}` };
  }
}

/**
 * Writes a build's `gantry/image` check run from the outbox: created once (its id is stored), then
 * updated only when what it shows changes, so sending the same changes again writes nothing.
 */
export class ImageCheckRuns {
  readonly #builds: ImageBuildStore;
  readonly #octokitFor: (installationId: number) => Promise<Octokit>;

  constructor(options: { builds: ImageBuildStore; octokitFor: (installationId: number) => Promise<Octokit> }) {
    this.#builds = options.builds;
    this.#octokitFor = options.octokitFor;
  }

  /** `changes`: views of one build, oldest first; the latest is what GitHub is brought to. */
  async apply(changes: readonly ImageBuildView[]): Promise<void> {
    const latest = changes.at(-1);
    if (!latest) return;
    const row = await this.#builds.get(latest.id);
    if (!row) return;
    // The row is newer than any change: show what it says now.
    const view = toImageBuildView(row, latest.updatedAt);
    const state = checkRunState(view);
    const shown = output(view);
    const sent = JSON.stringify({ state, shown });
    if (sent === row.check_run_sent) return;
    const octokit = await this.#octokitFor(view.repo.installationId);
    const at = { owner: view.repo.owner, repo: view.repo.repo };
    const details = view.logsUrl && /^https?:\/\//.test(view.logsUrl) ? { details_url: view.logsUrl } : {};
    const seeAllAt = "in the build log";
    if (row.check_run_id === null) {
      const created = await createCheckRun(octokit, at, { name: IMAGE_CHECK_NAME, head_sha: view.sha, external_id: view.id, ...state, ...details }, shown, seeAllAt);
      await this.#builds.noteCheckRun(view.id, created.id, sent);
      return;
    }
    await updateCheckRun(octokit, { ...at, check_run_id: Number(row.check_run_id) }, { ...state, ...details }, shown, seeAllAt);
    await this.#builds.noteCheckRun(view.id, Number(row.check_run_id), sent);
  }
}
