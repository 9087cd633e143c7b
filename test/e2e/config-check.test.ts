// The server's AWS account limit reaches the gantry/config check through the whole public path:
// a signed push webhook into Gantry's intake, the config read from the GitHub emulator, and the
// check run written back to it.
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGantry } from "../../src/gantry.ts";
import { startTestGantry } from "../support/gantry.ts";
import { examplePayload } from "../support/payloads.ts";
import { TEST_INSTALLATION_ID, TEST_WEBHOOK_SECRET } from "../support/probot.ts";
import { startGithubEmulator, type GithubEmulator } from "../world/github/emulator.ts";
import type { Repo } from "../world/github/state.ts";
import { sendSignedWebhook } from "../world/github/webhook.ts";
import { eventually } from "./world.ts";

const WEBHOOK_PATH = "/api/github/webhooks";
const elb = "arn:aws:elasticloadbalancing:us-east-1:123456789012";

function gantryYml(roleArn: string): string {
  return stringify({
    environments: {
      production: {
        aws: { region: "us-east-1", roleArn },
        ecs: { cluster: "prod", services: { blue: "web-blue", green: "web-green" } },
        targetGroups: { blue: `${elb}:targetgroup/web-blue/1`, green: `${elb}:targetgroup/web-green/2` },
        listeners: { production: `${elb}:listener/app/web/3/4` },
      },
    },
  });
}

interface PushPayload {
  after: string;
  ref: string;
  deleted: boolean;
  repository: Record<string, unknown>;
}

describe("gantry/config on a server that allows roles in one AWS account only", () => {
  let github: GithubEmulator;
  let gantry: RunningGantry;
  let repo: Repo;
  beforeAll(async () => {
    github = await startGithubEmulator();
    repo = github.seedRepo({ owner: "acme", name: "web", installationId: TEST_INSTALLATION_ID });
    gantry = await startTestGantry(undefined, { GITHUB_API_URL: github.url, WEBHOOK_PATH, GANTRY_AWS_ACCOUNT_IDS: "210987654321" });
  });
  afterAll(async () => {
    await gantry?.stop();
    await github?.close();
  });

  async function push(roleArn: string) {
    const sha = github.seedCommit(repo.fullName, { branch: repo.defaultBranch, files: { ".github/gantry.yml": gantryYml(roleArn) } });
    const payload = examplePayload<PushPayload>("push", (candidate) => candidate.deleted === false);
    payload.after = sha;
    payload.ref = `refs/heads/${repo.defaultBranch}`;
    payload.repository = { ...payload.repository, id: repo.id, name: repo.name, full_name: repo.fullName, default_branch: repo.defaultBranch, owner: { ...(payload.repository.owner as object), login: "acme", name: "acme" } };
    const delivery = await sendSignedWebhook({ url: `${gantry.url}${WEBHOOK_PATH}`, secret: TEST_WEBHOOK_SECRET, event: "push", payload });
    expect(delivery.status).toBe(202);
    return eventually("the gantry/config check run", () => [...repo.checkRuns.values()].find((run) => run.headSha === sha && run.name === "gantry/config"));
  }

  it("fails a config whose role lives in another account, at the role's line", async () => {
    const run = await push("arn:aws:iam::123456789012:role/gantry-web");
    expect(run.conclusion).toBe("failure");
    expect(run.output.annotations).toEqual([
      expect.objectContaining({
        start_line: 5,
        title: "environments.production.aws.roleArn",
        message: expect.stringContaining("is in AWS account 123456789012, and this Gantry server assumes roles only in 210987654321 (GANTRY_AWS_ACCOUNT_IDS)"),
      }),
    ]);
  });

  it("passes the same config with a role in the allowed account", async () => {
    const run = await push("arn:aws:iam::210987654321:role/gantry-web");
    expect(run.conclusion).toBe("success");
  });
});
