import { createRequire } from "node:module";
import { sign } from "@octokit/webhooks-methods";
import { TEST_INSTALLATION_ID } from "./probot.ts";

interface ExampleGroup {
  name: string;
  examples: Record<string, unknown>[];
}

const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as ExampleGroup[];

/**
 * A real payload from `@octokit/webhooks-examples`, deep-copied, with the test installation set so
 * Probot authenticates as it would for a real delivery.
 */
export function examplePayload<T = Record<string, unknown>>(
  event: string,
  match: (payload: Record<string, unknown>) => boolean = () => true,
): T {
  const group = examples.find((candidate) => candidate.name === event);
  const found = group?.examples.find(match);
  if (!found) throw new Error(`no ${event} example in @octokit/webhooks-examples matches`);
  const payload = structuredClone(found);
  payload.installation = { id: TEST_INSTALLATION_ID, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMg==" };
  return payload as T;
}

/**
 * A writer's comment `line` on pull request 1 of the example repository (`repository.full_name`),
 * from the real `issue_comment.created` example.
 */
export function writerPullRequestComment(commentId: number, line: string) {
  const payload = examplePayload<{
    comment: { id: number; body: string; user: { login: string } };
    issue: { number: number; pull_request?: object };
    repository: { full_name: string };
    sender: { login: string };
  }>("issue_comment", (candidate) => candidate.action === "created");
  payload.comment.id = commentId;
  payload.comment.body = line;
  payload.comment.user.login = payload.sender.login = "writer";
  payload.issue.pull_request = { url: `https://api.github.com/repos/${payload.repository.full_name}/pulls/1` };
  return payload;
}

/** Headers and body of a delivery exactly as GitHub sends it, signed with `secret`. */
export async function signedDelivery(secret: string, event: string, payload: unknown, id: string) {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": id,
      "x-hub-signature-256": await sign(secret, body),
    },
  };
}
