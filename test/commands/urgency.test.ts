import { describe, expect, it } from "vitest";
import { PermissionCache } from "../../src/commands/permission-cache.ts";
import { commentUrgency, URGENT_PRIORITY } from "../../src/commands/urgency.ts";
import { examplePayload } from "../support/payloads.ts";
import { TEST_INSTALLATION_ID } from "../support/probot.ts";

type CommentPayload = {
  comment: { body: string; author_association: string; user: { login: string } };
  repository: { id: number; name: string; owner: { login: string } };
  sender: { login: string };
};

function comment(body: string, login: string, association: string): string {
  const payload = examplePayload<CommentPayload>("issue_comment", (candidate) => candidate.action === "created");
  payload.comment.body = body;
  payload.comment.author_association = association;
  payload.comment.user.login = login;
  payload.sender.login = login;
  return JSON.stringify(payload);
}

describe("the inbox priority of a comment", () => {
  const repoOf = (payload: string) => {
    const { repository } = JSON.parse(payload) as CommentPayload;
    return { owner: repository.owner.login, repo: repository.name, id: repository.id, installationId: TEST_INSTALLATION_ID };
  };

  it("is urgent for a /rollback or /abort from someone GitHub says may have write access, and for nothing else", async () => {
    const urgency = commentUrgency(new PermissionCache());
    expect(await urgency("issue_comment", comment("/rollback production", "maintainer", "MEMBER"))).toBe(URGENT_PRIORITY);
    expect(await urgency("issue_comment", comment("/ABORT", "maintainer", "OWNER"))).toBe(URGENT_PRIORITY);
    expect(await urgency("issue_comment", comment("/rollback", "stranger", "NONE"))).toBe(0);
    expect(await urgency("issue_comment", comment("/deploy production", "maintainer", "OWNER"))).toBe(0);
    expect(await urgency("issue_comment", comment("> /rollback\nquoted, not a command", "maintainer", "OWNER"))).toBe(0);
    expect(await urgency("push", comment("/rollback", "maintainer", "OWNER"))).toBe(0);
    expect(await urgency("issue_comment", '{"comment": "/rollback"')).toBe(0);
  });

  it("follows the role looked up within the cache's period over GitHub's hint", async () => {
    const permissions = new PermissionCache();
    const urgency = commentUrgency(permissions);
    // A read-only collaborator flooding /rollback: urgent until their role is known, then in the common lane.
    const flood = comment("/rollback", "reader", "COLLABORATOR");
    await permissions.roleOf(repoOf(flood), "reader", async () => "read");
    expect(await urgency("issue_comment", flood)).toBe(0);
    // A maintainer GitHub calls a contributor, whose write role was looked up.
    const maintainer = comment("/rollback", "maintainer", "CONTRIBUTOR");
    expect(await urgency("issue_comment", maintainer)).toBe(0);
    await permissions.roleOf(repoOf(maintainer), "maintainer", async () => "maintain");
    expect(await urgency("issue_comment", maintainer)).toBe(URGENT_PRIORITY);
  });

  it("does not read a payload larger than any real comment's", async () => {
    const urgency = commentUrgency(new PermissionCache());
    const payload = JSON.parse(comment("/rollback", "maintainer", "OWNER")) as Record<string, unknown>;
    payload.padding = "x".repeat(600 * 1024);
    expect(await urgency("issue_comment", JSON.stringify(payload))).toBe(0);
  });
});
