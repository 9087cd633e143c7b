import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { locateIssues } from "../../src/config/load-repo-config.ts";
import { defaultEnvironmentName, repoConfigSchema } from "../../src/config/repo-config.ts";
import { JSON_SCHEMA_PATH, repoConfigJsonSchema } from "../../src/config/write-json-schema.ts";

const environment = `
    aws: { region: us-east-1, roleArn: "arn:aws:iam::123456789012:role/gantry-web" }
    ecs: { cluster: prod, services: { blue: web-blue, green: web-green } }
    targetGroups:
      blue: arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/b/1
      green: arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/g/2
    listeners: { production: "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/w/3/4" }`;

const withEnvironment = (extra = "") => `environments:\n  production:${environment}${extra}\n`;

function problems(text: string) {
  const result = repoConfigSchema.safeParse(parse(text));
  return result.success ? [] : locateIssues(result.error.issues, text);
}

describe("repository config", () => {
  it("fills defaults a user would expect, with durations in milliseconds", () => {
    const config = repoConfigSchema.parse(parse(withEnvironment()));
    const production = config.environments.production!;
    expect(production.strategy).toEqual({ type: "blue-green", bake: 300_000 });
    expect(production.analysis).toMatchObject({ interval: 60_000, metricsDelay: 60_000, minRequests: 100, maxErrorRatio: 1.5, maxErrorIncrease: 0.001, falseRollbackBudget: 0.005, maxExtensions: 3 });
    expect(production.keepWarm).toBe(1_800_000);
    expect(production.deployers).toEqual({ permission: "write", users: [], teams: [] });
    expect(config.ci.shards).toBe(1);
    expect(defaultEnvironmentName(config)).toBe("production");
  });

  it("takes required checks by name or with the app that must create them; gantry/test cannot be loosened", () => {
    const checks = `ci:\n  requiredChecks: [lint, { name: e2e, app: github-actions }, { name: ci, app: 42, status: true }]\n${withEnvironment()}`;
    expect(repoConfigSchema.parse(parse(checks)).ci.requiredChecks).toEqual(["lint", { name: "e2e", app: "github-actions", status: false }, { name: "ci", app: 42, status: true }]);
    const loosened = `ci:\n  requiredChecks:\n    - { name: gantry/test, status: true }\n${withEnvironment()}`;
    expect(problems(loosened)).toEqual([expect.objectContaining({ line: 3, message: expect.stringContaining("gantry/test counts only from Gantry itself") })]);
  });

  it("accepts canary steps with bake times", () => {
    const text = withEnvironment(`
    strategy:
      type: canary
      steps: [{ weight: 5, bake: 5m }, { weight: 25, bake: 10m }, { weight: 100, bake: 15m }]`);
    expect(repoConfigSchema.parse(parse(text)).environments.production!.strategy).toEqual({
      type: "canary",
      steps: [
        { weight: 5, bake: 300_000 },
        { weight: 25, bake: 600_000 },
        { weight: 100, bake: 900_000 },
      ],
    });
  });

  it.each([
    ["a canary that never reaches 100", `\n    strategy: { type: canary, steps: [{ weight: 5, bake: 1m }] }`, 9, "the last step must reach weight 100"],
    ["a bake time without unit", `\n    keepWarm: 30`, 9, "expected string"],
    ["a duration with an unknown unit", `\n    keepWarm: 3d`, 9, 'use a number and a unit'],
    ["an unknown strategy", `\n    strategy: { type: rolling }`, 9, ""],
    ["a requires naming no environment", `\n    requires: [staging]`, 9, '"staging" is not another environment in this file'],
    ["a misspelt setting", `\n    keep_warm: 30m`, 9, '"keep_warm" is not a setting here'],
    ["a smoke host with a scheme", `\n    smoke: [{ path: /health, host: "https://app.example.com" }]`, 9, "must be a host name such as app.example.com"],
    ["a smoke version header that is no header name", `\n    smoke: [{ path: /health, versionHeader: "x version:" }]`, 9, "must be an HTTP header name, e.g. x-version"],
  ])("reports %s at its line", (_case, extra, line, message) => {
    const [problem] = problems(withEnvironment(extra));
    expect(problem).toBeDefined();
    expect(problem!.line).toBe(line);
    expect(problem!.message).toContain(message);
  });

  it.each([
    ["a user ARN", "arn:aws:iam::123456789012:user/deployer"],
    ["a role ARN without account", "arn:aws:iam:::role/deployer"],
    ["not an ARN", "gantry-web"],
  ])("refuses %s as the role, at its line", (_case, roleArn) => {
    const [problem] = problems(withEnvironment().replace(/roleArn: "[^"]+"/, `roleArn: "${roleArn}"`));
    expect(problem).toEqual({ setting: "environments.production.aws.roleArn", line: 3, message: "must be an IAM role ARN: arn:aws:iam::<12-digit account id>:role/<name>" });
  });

  it("reports a default environment that does not exist, listing those that do", () => {
    const [problem] = problems(`defaultEnvironment: prod\n${withEnvironment()}`);
    expect(problem).toEqual({ setting: "defaultEnvironment", line: 1, message: "names no environment; the environments are: production" });
  });

  it("has its JSON Schema committed and current (run npm run schema:config after a change)", () => {
    expect(JSON.parse(readFileSync(JSON_SCHEMA_PATH, "utf8"))).toEqual(repoConfigJsonSchema());
  });
});
