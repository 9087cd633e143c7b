// Issue comments (on pull requests, which are issues) and their reactions.
import { type Ctx, type Handler, found, intParam, repoOf } from "../http.ts";
import { type Comment, type Repo, now } from "../state.ts";
import { commentView, reactionView } from "../views.ts";

function commentOf(ctx: Ctx): { repo: Repo; comment: Comment } {
  const repo = repoOf(ctx);
  return { repo, comment: found(repo.comments.get(intParam(ctx, "comment_id"))) };
}

export const issueHandlers: Record<string, Handler> = {
  "issues/create-comment": (ctx) => {
    const repo = repoOf(ctx);
    const issueNumber = intParam(ctx, "issue_number");
    found(repo.pulls.get(issueNumber));
    const at = now();
    const comment: Comment = {
      id: ctx.state.nextId(),
      issueNumber,
      body: String(ctx.body.body),
      user: ctx.state.botUser,
      createdAt: at,
      updatedAt: at,
      reactions: [],
    };
    repo.comments.set(comment.id, comment);
    return { status: 201, data: commentView(ctx.baseUrl, repo, comment) };
  },
  "issues/list-comments": (ctx) => {
    const repo = repoOf(ctx);
    const issueNumber = intParam(ctx, "issue_number");
    found(repo.pulls.get(issueNumber));
    const comments = [...repo.comments.values()].filter((c) => c.issueNumber === issueNumber);
    return { status: 200, list: { items: comments.map((c) => commentView(ctx.baseUrl, repo, c)) } };
  },
  "issues/get-comment": (ctx) => {
    const { repo, comment } = commentOf(ctx);
    return { status: 200, data: commentView(ctx.baseUrl, repo, comment) };
  },
  "issues/update-comment": (ctx) => {
    const { repo, comment } = commentOf(ctx);
    comment.body = String(ctx.body.body);
    comment.updatedAt = now();
    return { status: 200, data: commentView(ctx.baseUrl, repo, comment) };
  },
  "reactions/create-for-issue-comment": (ctx) => {
    const { comment } = commentOf(ctx);
    const content = String(ctx.body.content);
    const user = ctx.state.botUser;
    // Reacting twice with the same content is idempotent: 200 and the existing reaction.
    const existing = comment.reactions.find((r) => r.content === content && r.user.id === user.id);
    if (existing) return { status: 200, data: reactionView(ctx.baseUrl, existing) };
    const reaction = { id: ctx.state.nextId(), content, user, createdAt: now() };
    comment.reactions.push(reaction);
    return { status: 201, data: reactionView(ctx.baseUrl, reaction) };
  },
  "reactions/delete-for-issue-comment": (ctx) => {
    const { comment } = commentOf(ctx);
    const id = intParam(ctx, "reaction_id");
    found(comment.reactions.find((r) => r.id === id));
    comment.reactions = comment.reactions.filter((r) => r.id !== id);
    return { status: 204 };
  },
  "reactions/list-for-issue-comment": (ctx) => {
    const { comment } = commentOf(ctx);
    const content = ctx.query.get("content");
    const reactions = comment.reactions.filter((r) => !content || r.content === content);
    return { status: 200, list: { items: reactions.map((r) => reactionView(ctx.baseUrl, r)) } };
  },
};
