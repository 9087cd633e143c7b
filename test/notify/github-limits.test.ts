import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { fitCheckRunOutput, fitCommentBody, fitDeploymentStatusDescription, fitGeneratedText, GITHUB_LIMITS, type CheckRunAnnotation } from "../../src/notify/github-limits.ts";
import { createCheckRun, createComment, createDeploymentStatus } from "../../src/notify/github-writes.ts";
import { quoteUserText } from "../../src/notify/public-text.ts";
import { githubNock } from "../support/github-nock.ts";
import { nockInstallationToken } from "../support/github-fixtures.ts";
import { TEST_INSTALLATION_ID, testProbot } from "../support/probot.ts";

const lines = (count: number) => Array.from({ length: count }, (_, index) => `| row ${index} | ${"x".repeat(40)} |`).join("\n");
const LEFT_OUT = /\n\n\*… ([\d,]+) more characters left out to fit GitHub's limit; see all of it on the \[dashboard\]\(https:\/\/gantry\.example\/d\/1\)\.\*$/u;

function annotations(count: number): CheckRunAnnotation[] {
  return Array.from({ length: count }, (_, index) => ({ path: "a.yml", start_line: index + 1, end_line: index + 1, annotation_level: "failure" as const, message: `problem ${index}` }));
}

describe("GitHub's limits for what Gantry writes", () => {
  afterEach(() => {
    nock.cleanAll();
  });

  it("leaves a body within the limit as it is", () => {
    const body = lines(100);
    expect(fitCommentBody({ body, seeAllAt: "anywhere" })).toBe(body);
  });

  it("cuts a long comment at a line, then says how much was left out and where to see all of it", () => {
    const body = lines(5_000);
    const fitted = fitCommentBody({ body, seeAllAt: "on the [dashboard](https://gantry.example/d/1)" });
    expect(fitted.length).toBeLessThanOrEqual(GITHUB_LIMITS.commentBody);
    const match = LEFT_OUT.exec(fitted);
    expect(match).not.toBeNull();
    const kept = fitted.slice(0, match!.index);
    expect(body.startsWith(`${kept}\n`)).toBe(true);
    expect(Number(match![1]!.replaceAll(",", ""))).toBe(body.length - kept.length);
  });

  it("keeps a trailer (a reply's marker) whole after the cut body, within the limit", () => {
    const trailer = "\n\n<!-- gantry:reply-to 42 -->";
    const fitted = fitCommentBody({ body: lines(5_000), seeAllAt: "elsewhere", trailer });
    expect(fitted.endsWith(trailer)).toBe(true);
    expect(fitted.length).toBeLessThanOrEqual(GITHUB_LIMITS.commentBody);
  });

  it("never splits a character made of two UTF-16 units, whatever the length", () => {
    for (const extra of [0, 1, 2, 3]) {
      const body = `${"x".repeat(extra)}${"😀".repeat(40_000)}`;
      const fitted = fitGeneratedText(body, GITHUB_LIMITS.commentBody, "there");
      expect(fitted.length).toBeLessThanOrEqual(GITHUB_LIMITS.commentBody);
      expect(fitted.isWellFormed()).toBe(true);
      const excerpt = quoteUserText(body);
      expect(excerpt.isWellFormed()).toBe(true);
      expect(excerpt.length).toBeLessThan(200);
    }
  });

  it("cuts a check run's summary and text, and sends annotations 50 at a time", () => {
    const { output, laterAnnotations } = fitCheckRunOutput(
      { title: "t", summary: lines(3_000), text: lines(3_000), annotations: annotations(120) },
      "in the file",
    );
    expect(output.summary.length).toBeLessThanOrEqual(GITHUB_LIMITS.checkRunText);
    expect(output.text!.length).toBeLessThanOrEqual(GITHUB_LIMITS.checkRunText);
    expect(output.summary).toMatch(/see all of it in the file\.\*$/u);
    expect(output.annotations!.map((annotation) => annotation.message)).toEqual(annotations(50).map((annotation) => annotation.message));
    expect(laterAnnotations.map((batch) => batch.length)).toEqual([50, 20]);
    expect(laterAnnotations[1]![19]!.message).toBe("problem 119");
  });

  it("cuts a Deployment status description to one line of 140 characters", () => {
    const fitted = fitDeploymentStatusDescription(`Rolled back:\n${"error ".repeat(100)}`);
    expect(fitted.length).toBe(GITHUB_LIMITS.deploymentStatusDescription);
    expect(fitted).not.toContain("\n");
    expect(fitted.endsWith("…")).toBe(true);
  });

  it("writes to GitHub only what fits: the rest of the annotations in updates of the same check run", async () => {
    const gh = githubNock();
    nockInstallationToken(gh);
    gh.post("/repos/o/r/check-runs").reply(201, { id: 7, html_url: "https://github.com/o/r/runs/7" });
    gh.patch("/repos/o/r/check-runs/7").times(2).reply(200, { id: 7 });
    gh.post("/repos/o/r/issues/3/comments").reply(201, { id: 9 });
    gh.post("/repos/o/r/deployments/5/statuses").reply(201, { id: 1 });
    const octokit = await testProbot().auth(TEST_INSTALLATION_ID);

    const run = await createCheckRun(octokit, { owner: "o", repo: "r" }, { name: "gantry/config", head_sha: "a".repeat(40), status: "completed", conclusion: "failure" }, { title: "bad", summary: lines(3_000), annotations: annotations(120) }, "in the file");
    await createComment(octokit, { owner: "o", repo: "r", issue_number: 3 }, { body: lines(5_000), seeAllAt: "there" });
    await createDeploymentStatus(octokit, { owner: "o", repo: "r" }, { deployment_id: 5, state: "failure" }, "x".repeat(1_000));

    expect(run.id).toBe(7);
    const sent = gh.requests.filter((request) => request.method !== "POST" || !request.path.includes("access_tokens"));
    const bodies = sent.map((request) => request.body as { output?: { summary: string; annotations: unknown[] }; body?: string; description?: string });
    expect(sent.map((request) => `${request.method} ${request.path}`)).toEqual([
      "POST /repos/o/r/check-runs",
      "PATCH /repos/o/r/check-runs/7",
      "PATCH /repos/o/r/check-runs/7",
      "POST /repos/o/r/issues/3/comments",
      "POST /repos/o/r/deployments/5/statuses",
    ]);
    expect(bodies.slice(0, 3).map((body) => body.output!.annotations.length)).toEqual([50, 50, 20]);
    for (const body of bodies.slice(0, 3)) expect(body.output!.summary.length).toBeLessThanOrEqual(GITHUB_LIMITS.checkRunText);
    expect(bodies[3]!.body!.length).toBeLessThanOrEqual(GITHUB_LIMITS.commentBody);
    expect(bodies[4]!.description!.length).toBeLessThanOrEqual(GITHUB_LIMITS.deploymentStatusDescription);
  });
});
