import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { githubNock } from "./github-nock.ts";

// Retries and throttling are not plugins of @octokit/rest, so a failed request fails once.
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const octokit = new Octokit({ auth: "test-token", log: quiet });
const sha = "b".repeat(40);

afterEach(() => {
  nock.cleanAll();
});

describe("githubNock", () => {
  it("records a documented request with its parsed body and finds no violation", async () => {
    const gh = githubNock();
    gh.post("/repos/octo/app/check-runs").reply(201, { id: 1 });

    await octokit.rest.checks.create({ owner: "octo", repo: "app", name: "gantry/test", head_sha: sha, status: "queued" });

    expect(gh.requests).toEqual([
      expect.objectContaining({
        method: "POST",
        path: "/repos/octo/app/check-runs",
        body: { name: "gantry/test", head_sha: sha, status: "queued" },
      }),
    ]);
    expect(gh.requests[0]?.headers.authorization).toBe("token test-token");
    expect(gh.violations).toEqual([]);
    expect(gh.isDone()).toBe(true);
  });

  it("collects a body that fails the request schema, even though the interceptor replied", async () => {
    const gh = githubNock();
    gh.post("/repos/octo/app/check-runs").reply(201, { id: 1 });

    await octokit.rest.checks.create({
      owner: "octo",
      repo: "app",
      name: "gantry/test",
      head_sha: sha,
      conclusion: "bogus" as "success",
    });

    expect(gh.violations).toEqual([expect.stringMatching(/checks\/create.*\/conclusion must be equal to one of/)]);
    expect(() => gh.assertAllRequestsDocumented()).toThrow(/real GitHub would reject/);
    gh.violations.length = 0; // handled here; keep the end-of-test check from failing this test
  });

  it("counts a request no interceptor matched as a violation", async () => {
    const gh = githubNock();
    gh.get("/repos/octo/app/pulls/1").reply(200, {});

    await expect(octokit.rest.pulls.get({ owner: "octo", repo: "app", pull_number: 2 })).rejects.toThrow();

    expect(gh.violations).toEqual(["GET /repos/octo/app/pulls/2: no nock interceptor matched"]);
    expect(gh.requests.map((r) => r.path)).toEqual(["/repos/octo/app/pulls/2"]);
    gh.violations.length = 0;
  });

  // The helper's own hook must fail a test that sent an undocumented request and did not look.
  it.fails("fails the test at its end when a request was undocumented", async () => {
    const gh = githubNock();
    gh.post("/repos/octo/app/deploy-now").reply(200, {});
    await octokit.request("POST /repos/{owner}/{repo}/deploy-now", { owner: "octo", repo: "app" });
  });
});
