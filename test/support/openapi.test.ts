import { describe, expect, it } from "vitest";
import { checkRequest, checkResponse, findOperation } from "./openapi.ts";

const checkRun = {
  name: "gantry/test",
  head_sha: "a".repeat(40),
  status: "completed",
  conclusion: "failure",
  output: {
    title: "1 failed",
    summary: "see annotations",
    annotations: [{ path: "src/a.ts", start_line: 3, end_line: 3, annotation_level: "failure", message: "boom" }],
  },
};

describe("findOperation", () => {
  it("matches a concrete path with a query string against the documented template", () => {
    expect(findOperation("POST", "/repos/octo/app/check-runs?x=1")).toEqual({
      method: "post",
      template: "/repos/{owner}/{repo}/check-runs",
      operationId: "checks/create",
      params: { owner: "octo", repo: "app" },
    });
  });

  it("prefers literal segments over templates when both match", () => {
    // /repos/{o}/{r}/issues/comments/{id} and /repos/{o}/{r}/issues/{n}/comments both have 6 segments.
    expect(findOperation("GET", "/repos/o/r/issues/comments/12")?.operationId).toBe("issues/get-comment");
    expect(findOperation("GET", "/repos/o/r/issues/12/comments")?.operationId).toBe("issues/list-comments");
  });

  it("lets a trailing {path} span several segments, encoded or not", () => {
    for (const url of ["/repos/o/r/contents/.github/gantry.yml?ref=main", "/repos/o/r/contents/.github%2Fgantry.yml"]) {
      expect(findOperation("GET", url)?.params.path).toBe(".github/gantry.yml");
    }
    // Octokit sends the root listing without a trailing segment; GitHub serves it.
    expect(findOperation("GET", "/repos/o/r/contents")?.params.path).toBe("");
    expect(findOperation("GET", "/repos/o/r/issues/1/bogus")).toBeUndefined();
  });

  it("returns undefined for an undocumented method or path", () => {
    expect(findOperation("GET", "/repos/o/r/no-such-thing")).toBeUndefined();
    expect(findOperation("DELETE", "/repos/o/r/check-runs")).toBeUndefined();
  });
});

describe("checkRequest", () => {
  it("accepts a documented operation with a valid body", () => {
    expect(checkRequest("POST", "https://api.github.com/repos/o/r/check-runs", checkRun)).toEqual([]);
    expect(checkRequest("GET", "/repos/o/r/pulls/7", undefined)).toEqual([]);
  });

  it("rejects an invalid enum value, naming the field", () => {
    const errors = checkRequest("POST", "/repos/o/r/check-runs", { ...checkRun, conclusion: "bogus" });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/checks\/create.*\/conclusion must be equal to one of the allowed values/);
  });

  it("rejects an annotation without annotation_level", () => {
    const annotation = { path: "a.ts", start_line: 1, end_line: 1, message: "m" };
    const body = { ...checkRun, output: { ...checkRun.output, annotations: [annotation] } };
    expect(checkRequest("POST", "/repos/o/r/check-runs", body)).toEqual([
      expect.stringMatching(/\/output\/annotations\/0 must have required property 'annotation_level'/),
    ]);
  });

  it("accepts a body given as JSON text and rejects text that is not JSON", () => {
    expect(checkRequest("POST", "/repos/o/r/issues/1/comments", JSON.stringify({ body: "hi" }))).toEqual([]);
    expect(checkRequest("POST", "/repos/o/r/issues/1/comments", "body=hi")).toEqual([
      expect.stringMatching(/request body is not JSON/),
    ]);
  });

  it("rejects a missing required body, a body where none is taken, and a non-integer id", () => {
    expect(checkRequest("POST", "/repos/o/r/check-runs", undefined)).toEqual([
      expect.stringMatching(/request body is required/),
    ]);
    expect(checkRequest("GET", "/repos/o/r/pulls/7", { state: "open" })).toEqual([
      expect.stringMatching(/takes no request body/),
    ]);
    expect(checkRequest("GET", "/repos/o/r/pulls/undefined", undefined)).toEqual([
      expect.stringMatching(/pull_number="undefined" is not an integer/),
    ]);
  });

  it("rejects an undocumented path", () => {
    expect(checkRequest("POST", "/repos/o/r/deploy-now", {})).toEqual([
      "POST /repos/o/r/deploy-now: not a documented GitHub REST operation",
    ]);
  });
});

describe("checkResponse", () => {
  const reaction = {
    id: 1,
    node_id: "R_1",
    user: null,
    content: "rocket",
    created_at: "2026-01-01T00:00:00Z",
  };

  it("validates a body against the documented response, following $ref and nullable", () => {
    expect(checkResponse("POST", "/repos/o/r/issues/comments/5/reactions", 201, reaction)).toEqual([]);
    expect(checkResponse("POST", "/repos/o/r/issues/comments/5/reactions", 201, { ...reaction, content: "party" })).toEqual([
      expect.stringMatching(/\/content must be equal to one of the allowed values/),
    ]);
    expect(checkResponse("POST", "/repos/o/r/issues/comments/5/reactions", 201, { ...reaction, created_at: "yesterday" })).toEqual([
      expect.stringMatching(/\/created_at must match format "date-time"/),
    ]);
  });

  it("rejects an undocumented success status and accepts a bodiless redirect", () => {
    expect(checkResponse("GET", "/repos/o/r/check-runs/1", 201, {})).toEqual([
      expect.stringMatching(/status not documented \(documented: 200\)/),
    ]);
    expect(checkResponse("GET", "/repos/o/r/tarball/main", 302, undefined)).toEqual([]);
  });

  it("holds undocumented error statuses to GitHub's standard error shapes", () => {
    const notFound = { message: "Not Found", documentation_url: "https://docs.github.com/rest" };
    expect(checkResponse("GET", "/repos/o/r/check-runs/1", 404, notFound)).toEqual([]);
    expect(checkResponse("GET", "/repos/o/r/check-runs/1", 404, { error: "nope" })).not.toEqual([]);
  });
});
