import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { createGantryApp, type GantryServices } from "../../src/app/index.ts";
import { githubNock } from "../support/github-nock.ts";
import { nockConfigFile, nockInstallationToken } from "../support/github-fixtures.ts";
import { examplePayload } from "../support/payloads.ts";
import { testProbot } from "../support/probot.ts";

interface PushPayload {
  after: string;
  repository: { id: number; full_name: string; name: string; owner: { login: string } };
}

const VALID = `environments:
  production:
    aws: { region: us-east-1, roleArn: "arn:aws:iam::123456789012:role/gantry-web" }
    ecs:
      cluster: prod
      services: { blue: web-blue, green: web-green }
    targetGroups:
      blue: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/1
      green: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/2
    listeners:
      production: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/3/4
`;

async function pushWithConfig(text: string | undefined, services: GantryServices = {}, serveMore?: (gh: ReturnType<typeof githubNock>, owner: string) => void) {
  const payload = examplePayload<PushPayload>("push", (candidate) => candidate.deleted === false);
  const gh = githubNock();
  nockInstallationToken(gh);
  serveMore?.(gh, payload.repository.owner.login);
  nockConfigFile(gh, payload.repository.full_name, text);
  gh.post(`/repos/${payload.repository.full_name}/check-runs`).optionally().reply(201, { id: 1, name: "gantry/config" });
  await testProbot(createGantryApp(services)).receive({ id: "push-1", name: "push", payload } as never);
  const checkRun = gh.requests.find((request) => request.method === "POST" && request.path.endsWith("/check-runs"))
    ?.body as Record<string, unknown> | undefined;
  return { checkRun, payload };
}

describe("gantry/config check run on push", () => {
  afterEach(() => {
    nock.cleanAll();
  });

  it("reports a valid config as a successful check naming the environments", async () => {
    const { checkRun, payload } = await pushWithConfig(VALID);
    expect(checkRun).toMatchObject({
      name: "gantry/config",
      head_sha: payload.after,
      status: "completed",
      conclusion: "success",
      output: {
        summary: `Environments: production.\n\nRoles are assumed with ExternalId \`${payload.repository.id}\`, this repository's id: each role's trust policy must require it.`,
      },
    });
  });

  it("points a failed check at the line of each invalid setting", async () => {
    const invalid = VALID.replace("region: us-east-1,", "region: useast,").replace("cluster: prod", "cluster: prod\n      clustr: typo");
    const { checkRun } = await pushWithConfig(invalid);
    expect(checkRun).toMatchObject({ conclusion: "failure", output: { title: ".github/gantry.yml has 2 problems" } });
    const annotations = (checkRun!.output as { annotations: Record<string, unknown>[] }).annotations;
    expect(annotations).toEqual([
      {
        path: ".github/gantry.yml",
        start_line: 3,
        end_line: 3,
        annotation_level: "failure",
        title: "environments.production.aws.region",
        message: "must be an AWS region such as us-east-1",
      },
      expect.objectContaining({
        start_line: 6,
        title: "environments.production.ecs.clustr",
        message: '"clustr" is not a setting here; check its spelling and indentation',
      }),
    ]);
  });

  it("points at the parent of a missing required setting", async () => {
    const { checkRun } = await pushWithConfig(VALID.replace(/ {4}listeners:\n.*\n/, ""));
    const [annotation] = (checkRun!.output as { annotations: Record<string, unknown>[] }).annotations;
    expect(annotation).toMatchObject({ start_line: 2, title: "environments.production.listeners" });
  });

  const annotationsOf = (checkRun: Record<string, unknown> | undefined) => (checkRun!.output as { annotations: Record<string, unknown>[] }).annotations;

  it("refuses an AWS endpoint and a missing role, at their lines, saying what to do instead", async () => {
    const text = VALID.replace(
      / {4}aws: .*\n/,
      "    aws:\n      region: us-east-1\n      endpoint: https://collector.example.net\n",
    );
    const { checkRun, payload } = await pushWithConfig(text);
    expect(checkRun).toMatchObject({ conclusion: "failure" });
    // The fix needs the repository's id, which the check names.
    expect((checkRun!.output as { summary: string }).summary).toContain(`ExternalId \`${payload.repository.id}\``);
    expect(annotationsOf(checkRun)).toEqual([
      expect.objectContaining({ start_line: 3, title: "environments.production.aws.roleArn", message: expect.stringMatching(/^is required: name the IAM role .*sts:ExternalId = this repository's numeric id/) }),
      expect.objectContaining({ start_line: 5, title: "environments.production.aws.endpoint", message: expect.stringContaining("the Gantry server's setting (AWS_ENDPOINT_URL)") }),
    ]);
  });

  it("refuses a role outside the AWS accounts the server allows, at the role's line", async () => {
    const text = VALID.replace(/ {4}aws: .*\n/, "    aws:\n      region: us-east-1\n      roleArn: arn:aws:iam::123456789012:role/gantry-web\n");
    const { checkRun } = await pushWithConfig(text, { awsAccountIds: ["111111111111", "222222222222"] });
    expect(annotationsOf(checkRun)).toEqual([
      expect.objectContaining({
        start_line: 5,
        title: "environments.production.aws.roleArn",
        message: expect.stringContaining("is in AWS account 123456789012, and this Gantry server assumes roles only in 111111111111, 222222222222 (GANTRY_AWS_ACCOUNT_IDS)"),
      }),
    ]);
    const allowed = await pushWithConfig(text, { awsAccountIds: ["123456789012"] });
    expect(allowed.checkRun).toMatchObject({ conclusion: "success" });
  });

  it("reports YAML that does not parse at the line of the syntax error", async () => {
    const { checkRun } = await pushWithConfig("environments:\n  production:\n    aws: { region: us-east-1\n");
    expect(checkRun).toMatchObject({ conclusion: "failure" });
    const [annotation] = (checkRun!.output as { annotations: Record<string, unknown>[] }).annotations;
    expect(annotation).toMatchObject({ title: "(YAML syntax)", start_line: expect.any(Number) });
    expect(String(annotation!.message)).toMatch(/^The file is not valid YAML/);
  });

  it("does nothing for a repository without .github/gantry.yml", async () => {
    const { checkRun } = await pushWithConfig(undefined);
    expect(checkRun).toBeUndefined();
  });

  describe("bad files: each gets a failed check naming the line at fault", () => {
    const outputOf = (checkRun: Record<string, unknown> | undefined) =>
      checkRun!.output as { title: string; summary: string; annotations: Record<string, unknown>[] };

    async function failedAt(text: string) {
      nock.cleanAll();
      const { checkRun } = await pushWithConfig(text);
      expect(checkRun).toMatchObject({ conclusion: "failure", status: "completed" });
      const output = outputOf(checkRun);
      expect(output.summary.length).toBeLessThanOrEqual(65_535);
      return { output, annotation: output.annotations[0]! };
    }

    it("a YAML alias bomb (billion laughs), at the first alias", async () => {
      const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
      for (let level = 1; level < 9; level++) {
        const [name, previous] = [String.fromCharCode(97 + level), String.fromCharCode(96 + level)];
        levels.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(", ")}]`);
      }
      const { annotation } = await failedAt(`${levels.join("\n")}\n`);
      expect(annotation).toMatchObject({ title: "(YAML aliases)", start_line: 2 });
      expect(String(annotation.message)).toMatch(/expand to too much data/);
    });

    it("nesting thousands of levels deep, in flow and in block style, where it passes the limit", async () => {
      const flow = await failedAt(`environments:\n  production: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`);
      expect(flow.annotation).toMatchObject({ title: "(nesting)", start_line: 2 });
      const block = Array.from({ length: 200 }, (_, depth) => `${" ".repeat(depth)}k${depth}:`).join("\n");
      const blocked = await failedAt(`# a comment\n${block}\n`);
      expect(blocked.annotation).toMatchObject({ title: "(nesting)", start_line: 34 });
      const dashes = await failedAt(`environments:\n  ${"- ".repeat(5_000)}x\n`);
      expect(dashes.annotation).toMatchObject({ title: "(nesting)", start_line: 2 });
    });

    it("a top level that is a list or a single value, not a mapping", async () => {
      const list = await failedAt("# settings\n- environments\n- production\n");
      expect(list.annotation).toMatchObject({ title: "(top level)", start_line: 2 });
      expect(String(list.annotation.message)).toContain("not a list");
      const scalar = await failedAt("production\n");
      expect(scalar.annotation).toMatchObject({ title: "(top level)", start_line: 1, message: expect.stringContaining("not a single value") });
    });

    it("an `_extends` that is not a repository name, at its line", async () => {
      const { annotation } = await failedAt(`${VALID}_extends: 42\n`);
      expect(annotation).toMatchObject({ title: "_extends", start_line: 12 });
      expect(String(annotation.message)).toContain("`owner/repo:path.yml`, not `42`");
      const list = await failedAt(`_extends: [a, b]\n${VALID}`);
      expect(list.annotation).toMatchObject({ title: "_extends", start_line: 1 });
    });

    it("an `_extends` naming a bad file, at the `_extends` line; a good one merged under the repository's settings", async () => {
      nock.cleanAll();
      const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]", ...Array.from({ length: 8 }, (_, level) => `${String.fromCharCode(98 + level)}: &${String.fromCharCode(98 + level)} [${Array(9).fill(`*${String.fromCharCode(97 + level)}`).join(", ")}]`)].join("\n");
      const serve = (shared: string) => (gh: ReturnType<typeof githubNock>, owner: string) => {
        gh.get(new RegExp(`^/repos/${owner}/shared/contents/\\.github(%2F|/)gantry\\.yml`)).reply(200, shared, { "content-type": "text/plain; charset=utf-8" });
      };
      const bad = await pushWithConfig(`# shared settings\n_extends: shared\n${VALID}`, {}, serve(bomb));
      expect(outputOf(bad.checkRun).annotations[0]).toMatchObject({ title: "_extends", start_line: 2, message: expect.stringMatching(/^In [^/]+\/shared:\.github\/gantry\.yml, line 2: Aliases/) });
      nock.cleanAll();
      const good = await pushWithConfig(`_extends: shared\ndefaultEnvironment: production\n`, {}, serve(VALID));
      expect(good.checkRun).toMatchObject({ conclusion: "success" });
    });

    it("settings of the wrong type, at their lines", async () => {
      const text = `${VALID}ci:\n  command: npm test\n  shards: four\n`;
      const { annotation } = await failedAt(text);
      expect(annotation).toMatchObject({ title: "ci.shards", start_line: 14 });
    });

    it("a key set twice in one mapping", async () => {
      const { annotation } = await failedAt(VALID.replace("cluster: prod", "cluster: prod\n      cluster: staging"));
      expect(annotation).toMatchObject({ title: "environments.production.ecs.cluster", start_line: 6, message: expect.stringContaining("set twice") });
    });

    it("unknown keys by the thousand: the first 50, each at its line, then how many more", async () => {
      const unknown = Array.from({ length: 8_000 }, (_, index) => `      unknown_${index}: ${index}`).join("\n");
      const text = VALID.replace("      cluster: prod\n", `      cluster: prod\n${unknown}\n`);
      const { output } = await failedAt(text);
      expect(output.title).toBe(".github/gantry.yml has 8000 problems");
      expect(output.annotations).toHaveLength(50);
      output.annotations.forEach((annotation, index) => {
        expect(annotation).toMatchObject({ title: `environments.production.ecs.unknown_${index}`, start_line: 6 + index });
      });
      expect(output.summary).toContain("- line 55, `environments.production.ecs.unknown_49`");
      expect(output.summary).toContain("- and 7950 more");
      expect(output.summary).not.toContain("unknown_50`");
    });

    it("a file over 256 KB, saying so", async () => {
      const padding = Array.from({ length: 9_000 }, (_, index) => `# padding line ${index} ${"x".repeat(20)}`).join("\n");
      const text = `${VALID}${padding}\n`;
      const { annotation } = await failedAt(text);
      // The line where the file passes the limit.
      expect(annotation).toMatchObject({ title: "(file size)", start_line: text.slice(0, 256 * 1024).split("\n").length });
      expect(String(annotation.message)).toMatch(`The file is ${Math.ceil(text.length / 1024)} KB; Gantry reads configuration files up to 256 KB.`);
    });

    it("is green again once a valid file is pushed after a bad one", async () => {
      const bad = await pushWithConfig("- not\n- a mapping\n");
      expect(bad.checkRun).toMatchObject({ conclusion: "failure" });
      nock.cleanAll();
      const good = await pushWithConfig(VALID);
      expect(good.checkRun).toMatchObject({ conclusion: "success" });
    });
  });
});
