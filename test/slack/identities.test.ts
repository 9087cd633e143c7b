import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseServerEnv, ServerEnvError } from "../../src/config/server-env.ts";
import { repoConfigSchema } from "../../src/config/repo-config.ts";
import { readIdentityFile } from "../../src/slack/identity-file.ts";
import { LINK_REQUEST_TTL_MS, SlackIdentities } from "../../src/slack/identity-store.ts";
import { openStore, type Store } from "../../src/store/open-store.ts";

const ALICE = { slackUserId: "U0ALICE", slackTeamId: "T0GANTRY", slackUserName: "alice" };

describe("Slack ↔ GitHub identities", () => {
  let store: Store;
  let now: number;
  let identities: SlackIdentities;

  beforeEach(async () => {
    store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), "gantry-identities-")) });
    now = 1_000_000;
    identities = new SlackIdentities(store, new Map([["U0OPERATOR", "octocat"]]), () => now);
  });
  afterEach(async () => {
    await store.close();
  });

  it("links only once GitHub said who authorised and that person confirmed; the token works once and is stored hashed", async () => {
    const token = await identities.requestLink(ALICE);
    expect(await identities.confirm(token)).toBeUndefined();
    expect(await identities.find(ALICE.slackUserId, ALICE.slackTeamId)).toBeUndefined();
    expect(await identities.authorised(token, { login: "alice", id: 42 })).toBe(true);
    expect((await identities.confirm(token))?.githubLogin).toBe("alice");
    expect(await identities.find(ALICE.slackUserId, ALICE.slackTeamId)).toMatchObject({ githubLogin: "alice", source: "github-authorisation" });
    // Spent: neither GitHub's answer nor a confirmation can use it again.
    expect(await identities.authorised(token, { login: "mallory", id: 66 })).toBe(false);
    expect(await identities.confirm(token)).toBeUndefined();
    const stored = await store.db.selectFrom("slack_link_requests").select("token_hash").execute();
    expect(stored.map((row) => row.token_hash)).not.toContain(token);
  });

  it("refuses a forged or expired token, and a link from another Slack workspace", async () => {
    expect(await identities.authorised("forged", { login: "mallory", id: 66 })).toBe(false);
    const token = await identities.requestLink(ALICE);
    now += LINK_REQUEST_TTL_MS + 1;
    expect(await identities.pendingLink(token)).toBeUndefined();
    expect(await identities.authorised(token, { login: "alice", id: 42 })).toBe(false);

    const fresh = await identities.requestLink(ALICE);
    await identities.authorised(fresh, { login: "alice", id: 42 });
    await identities.confirm(fresh);
    expect(await identities.find(ALICE.slackUserId, "T0OTHER")).toBeUndefined();
  });

  it("lets the operator's file win over any link, and unlinks on request", async () => {
    expect(await identities.find("U0OPERATOR", "T0ANY")).toMatchObject({ githubLogin: "octocat", source: "operator-file" });
    expect(identities.isSetByOperator("U0OPERATOR")).toBe(true);
    const token = await identities.requestLink(ALICE);
    await identities.authorised(token, { login: "alice", id: 42 });
    await identities.confirm(token);
    expect(await identities.unlink(ALICE.slackUserId)).toBe(true);
    expect(await identities.unlink(ALICE.slackUserId)).toBe(false);
    expect(await identities.find(ALICE.slackUserId, ALICE.slackTeamId)).toBeUndefined();
  });

  it("reads the operator's file and stops at a bad one, naming the fault", () => {
    const dir = mkdtempSync(join(tmpdir(), "gantry-identity-file-"));
    writeFileSync(join(dir, "good.yml"), "U024BE7LH: octocat\nW0123ABC: hubot\n");
    writeFileSync(join(dir, "bad.yml"), "alice: octocat\n");
    expect([...readIdentityFile(join(dir, "good.yml"))]).toEqual([["U024BE7LH", "octocat"], ["W0123ABC", "hubot"]]);
    expect(() => readIdentityFile(join(dir, "bad.yml"))).toThrow(ServerEnvError);
    expect(() => readIdentityFile(join(dir, "bad.yml"))).toThrow(/alice is not a Slack user id/);
    expect(() => readIdentityFile(join(dir, "missing.yml"))).toThrow(/cannot be read/);
  });

  it("cannot be granted by a repository's config: it has no place for Slack users", () => {
    const environment = { aws: { region: "us-east-1", roleArn: "arn:aws:iam::123456789012:role/x" }, ecs: { cluster: "c", services: { blue: "b", green: "g" } }, targetGroups: { blue: "arn:aws:elasticloadbalancing:b", green: "arn:aws:elasticloadbalancing:g" }, listeners: { production: "arn:aws:elasticloadbalancing:l" } };
    expect(repoConfigSchema.safeParse({ environments: { production: { ...environment, slack: { channel: "#deploys" } } } }).success).toBe(true);
    expect(repoConfigSchema.safeParse({ environments: { production: { ...environment, slack: { channel: "#d", users: { U0MALLORY: "alice" } } } } }).success).toBe(false);
    expect(repoConfigSchema.safeParse({ environments: { production: environment }, slack: { channel: "#d", identities: { U0MALLORY: "alice" } } }).success).toBe(false);
  });

  it("turns Slack on only with both of its secrets, and never echoes them", () => {
    expect(() => parseServerEnv({ SLACK_SIGNING_SECRET: "shh" })).toThrow("SLACK_BOT_TOKEN is required with the other Slack setting");
    expect(() => parseServerEnv({ SLACK_SIGNING_SECRET: "shh", SLACK_BOT_TOKEN: "xoxp-user-token" })).toThrow(/^SLACK_BOT_TOKEN must be a bot token \(xoxb-\.\.\.\)$/);
    expect(() => parseServerEnv({ GITHUB_CLIENT_ID: "Iv1.x", GITHUB_CLIENT_SECRET: "y" })).toThrow(/GANTRY_PUBLIC_URL is required with GITHUB_CLIENT_ID/);
    expect(parseServerEnv({ SLACK_SIGNING_SECRET: "shh", SLACK_BOT_TOKEN: "xoxb-1" }).SLACK_API_URL).toBe("https://slack.com/api/");
  });
});
