import { PASS, refuse, type Gate } from "./gate.ts";

/** Someone other than the author approved the pull request and nobody's latest review asks for changes. */
export const approvedReviewGate: Gate = {
  name: "approved review",
  async check({ octokit, repo, pullRequest, environment, sha }) {
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
    const latest = new Map<string, string>();
    for (const review of reviews) {
      // Comments do not change a reviewer's verdict; a dismissal withdraws it.
      if (review.user && review.state !== "COMMENTED" && review.state !== "PENDING") latest.set(review.user.login, review.state);
    }
    const blocking = [...latest].filter(([, state]) => state === "CHANGES_REQUESTED").map(([login]) => `@${login}`);
    if (blocking.length > 0) {
      return refuse(approvedReviewGate, `${blocking.join(", ")} requested changes on #${pullRequest.number}.`, "Address the review and get it approved.");
    }
    const approved = [...latest].some(([login, state]) => state === "APPROVED" && login !== pullRequest.author);
    if (approved) return PASS;
    return refuse(approvedReviewGate, `#${pullRequest.number} has no approving review.`, "Ask a reviewer to approve the pull request.");
  },
};
