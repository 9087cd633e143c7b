import { PASS, refuse, type Gate } from "./gate.ts";
import { hasWriteAccess } from "./permission.ts";

interface Verdict {
  state: string;
  commitId: string | null;
}

/**
 * Someone other than the author, with write access, approved the pull request's current head, and
 * nobody's latest review asks for changes. An approval of an earlier commit does not carry over to
 * commits pushed after it, and an approval by someone who could not merge counts for nothing.
 */
export const approvedReviewGate: Gate = {
  name: "approved review",
  async check({ octokit, permissions, repo, pullRequest, environment, sha }) {
    if (!pullRequest) {
      return refuse(approvedReviewGate, `${environment} deploys need an approved pull request.`, "Run /deploy on the pull request.");
    }
    if (pullRequest.headSha !== sha) {
      // The review and the base comparison speak for the pull request's head, not for another commit.
      return refuse(approvedReviewGate, `${sha!.slice(0, 7)} is not the head of #${pullRequest.number}.`, "Deploy the pull request's head: /deploy without --sha.");
    }
    const reviews = await octokit.paginate(octokit.rest.pulls.listReviews, {
      owner: repo.owner,
      repo: repo.repo,
      pull_number: pullRequest.number,
      per_page: 100,
    });
    const latest = new Map<string, Verdict>();
    for (const review of reviews) {
      // Comments do not change a reviewer's verdict; a dismissal withdraws it.
      if (review.user && review.state !== "COMMENTED" && review.state !== "PENDING") latest.set(review.user.login, { state: review.state, commitId: review.commit_id ?? null });
    }
    const blocking = [...latest].filter(([, verdict]) => verdict.state === "CHANGES_REQUESTED").map(([login]) => `@${login}`);
    if (blocking.length > 0) {
      return refuse(approvedReviewGate, `${blocking.join(", ")} requested changes on #${pullRequest.number}.`, "Address the review and get it approved.");
    }
    const approvals = [...latest].filter(([login, verdict]) => verdict.state === "APPROVED" && login !== pullRequest.author);
    const onHead = approvals.filter(([, verdict]) => verdict.commitId === pullRequest.headSha).map(([login]) => login);
    for (const login of onHead) {
      if (await hasWriteAccess(octokit, permissions, repo, login)) return PASS;
    }
    const head = pullRequest.headSha.slice(0, 7);
    if (onHead.length > 0) {
      return refuse(
        approvedReviewGate,
        `#${pullRequest.number} is approved only by people without write access to ${repo.owner}/${repo.repo}.`,
        "Ask a reviewer with write access to approve the pull request.",
      );
    }
    if (approvals.length > 0) {
      return refuse(approvedReviewGate, `#${pullRequest.number} was approved before its head ${head} was pushed.`, `Ask a reviewer to approve ${head}, the pull request's current head.`);
    }
    return refuse(approvedReviewGate, `#${pullRequest.number} has no approving review.`, "Ask a reviewer to approve the pull request.");
  },
};
