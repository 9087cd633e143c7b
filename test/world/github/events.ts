// Webhook payloads the GitHub emulator's state implies, built on real examples from
// @octokit/webhooks-examples: a push, a pull request opened, a check run re-requested or its button
// pressed, a check suite re-requested. Send them with `sendSignedWebhook` (webhook.ts).
import { examplePayload } from "../../support/payloads.ts";
import type { CheckRun, GithubState, Repo } from "./state.ts";
import { repoView } from "./views.ts";

type Payload = Record<string, unknown>;

function repository(base: string, repo: Repo, example: unknown): Payload {
  return { ...(example as Payload), ...repoView(base, repo), default_branch: repo.defaultBranch, owner: { ...((example as Payload).owner as Payload), login: repo.owner.login, id: repo.owner.id, name: repo.owner.login } };
}

/** `push` of `branch` to the commit it now points at (as GitHub sends after a `git push`). */
export function pushEvent(base: string, repo: Repo, branch: string, before = "0".repeat(40)): Payload {
  const after = repo.branches.get(branch);
  if (!after) throw new Error(`GitHub emulator: branch ${branch} points at no commit`);
  const payload = examplePayload<Payload>("push", (candidate) => candidate.deleted === false);
  return { ...payload, ref: `refs/heads/${branch}`, before, after, created: before === "0".repeat(40), deleted: false, forced: false, repository: repository(base, repo, payload.repository) };
}

function app(state: GithubState, example: Payload): Payload {
  return { ...example, id: state.appId, slug: state.botUser.login.replace("[bot]", "") };
}

/** `check_run.rerequested` ("Re-run") or, with `identifier`, `check_run.requested_action` (a button). */
export function checkRunEvent(base: string, state: GithubState, repo: Repo, run: CheckRun, identifier?: string): Payload {
  const action = identifier === undefined ? "rerequested" : "requested_action";
  const payload = examplePayload<Payload & { check_run: Payload }>("check_run", (candidate) => candidate.action === action);
  return {
    ...payload,
    check_run: { ...payload.check_run, id: run.id, name: run.name, head_sha: run.headSha, status: run.status, conclusion: run.conclusion, app: app(state, payload.check_run.app as Payload), check_suite: { ...(payload.check_run.check_suite as Payload), id: run.checkSuiteId, head_sha: run.headSha } },
    ...(identifier === undefined ? {} : { requested_action: { identifier } }),
    repository: repository(base, repo, payload.repository),
  };
}

/** `check_suite.rerequested` ("Re-run all checks") of the app's suite on `headSha`. */
export function checkSuiteEvent(base: string, state: GithubState, repo: Repo, headSha: string): Payload {
  const id = repo.checkSuites.get(`${state.appId}:${headSha}`);
  if (id === undefined) throw new Error(`GitHub emulator: the app has no check suite on ${headSha}`);
  const payload = examplePayload<Payload & { check_suite: Payload }>("check_suite", (candidate) => candidate.action === "rerequested");
  return { ...payload, check_suite: { ...payload.check_suite, id, head_sha: headSha, app: app(state, payload.check_suite.app as Payload) }, repository: repository(base, repo, payload.repository) };
}

/** `pull_request.opened` of a pull request the emulator holds (its head in the same repository). */
export function pullRequestEvent(base: string, repo: Repo, number: number): Payload {
  const pull = repo.pulls.get(number);
  if (!pull) throw new Error(`GitHub emulator: seed pull ${number} first`);
  const payload = examplePayload<Payload & { pull_request: Payload }>("pull_request", (candidate) => candidate.action === "opened");
  const repository = { ...repoView(base, repo), default_branch: repo.defaultBranch, owner: { ...((payload.repository as Payload).owner as Payload), login: repo.owner.login, id: repo.owner.id } };
  return {
    ...payload,
    number,
    pull_request: {
      ...payload.pull_request,
      number,
      id: pull.id,
      state: pull.state,
      head: { ...(payload.pull_request.head as Payload), ref: pull.head.ref, sha: pull.head.sha, repo: repository },
      base: { ...(payload.pull_request.base as Payload), ref: pull.base.ref, sha: pull.base.sha, repo: repository },
    },
    repository,
  };
}
