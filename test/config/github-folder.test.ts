import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../support/stores.ts";

interface Workflow {
  jobs: Record<string, { services?: Record<string, { image: string; env: Record<string, string> }>; env?: Record<string, string>; steps: Array<{ uses?: string; with?: Record<string, unknown>; run?: string }> }>;
}

describe(".github/", () => {
  const workflow = parse(readFileSync(".github/workflows/ci.yml", "utf8")) as Workflow;
  const job = Object.values(workflow.jobs)[0]!;
  const runs = job.steps.flatMap((step) => (step.run ? [step.run.trim()] : []));

  it("CI on GitHub Actions runs the steps of .ci/run, in its order", () => {
    const local = readFileSync(".ci/run", "utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => /^npm (ci|run|test)\b/.test(line))
      // .ci/run adds reporters to print its last line; the command is the same.
      .map((line) => line.replace(/ -- --reporter.*$/, "").replace(/ \|\|.*$/, ""));
    expect(local).toEqual(["npm ci --no-audit --no-fund", "npm run --silent typecheck", "npm run --silent lint", "npm test"]);
    expect(runs).toEqual(local);
  });

  it("on Node 24, with the test database the README names", () => {
    expect(job.steps.find((step) => step.uses?.startsWith("actions/setup-node"))?.with?.["node-version"]).toBe(24);
    const postgres = job.services?.postgres;
    expect(postgres?.env).toMatchObject({ POSTGRES_DB: "test", POSTGRES_HOST_AUTH_METHOD: "trust" });
    expect(job.env?.TEST_DATABASE_URL).toBe("postgres://postgres@127.0.0.1:5432/test");
    expect(TEST_DATABASE_URL).toBe(process.env.TEST_DATABASE_URL ?? job.env?.TEST_DATABASE_URL);
  });

  it("Dependabot keeps npm packages up to date", () => {
    const dependabot = parse(readFileSync(".github/dependabot.yml", "utf8")) as { updates: Array<{ "package-ecosystem": string; directory: string }> };
    expect(dependabot.updates).toContainEqual(expect.objectContaining({ "package-ecosystem": "npm", directory: "/" }));
  });
});
