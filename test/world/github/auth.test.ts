import { generateKeyPairSync } from "node:crypto";
import { Octokit } from "@octokit/rest";
import { Probot, ProbotOctokit } from "probot";
import { afterEach, describe, expect, it } from "vitest";
import { FAKE_JWT, INSTALLATION_ID, type World, quiet, startWorld, statusOf } from "./fixture.ts";

let world: World;
afterEach(async () => {
  expect(world.emu.violations).toEqual([]);
  await world.emu.close();
});

describe("GitHub emulator: app authentication", () => {
  it("issues an installation token for an app JWT and serves the repo's installation", async () => {
    world = await startWorld();
    const app = new Octokit({ baseUrl: world.emu.url, auth: FAKE_JWT, log: quiet });
    const { data: installation } = await app.rest.apps.getRepoInstallation({ owner: "octo", repo: "app" });
    expect(installation).toMatchObject({ id: INSTALLATION_ID, app_id: 1, account: { login: "octo" } });
    const { status, data } = await app.rest.apps.createInstallationAccessToken({ installation_id: INSTALLATION_ID });
    expect(status).toBe(201);
    expect(data.token).toMatch(/^ghs_/);
    expect(Date.parse(data.expires_at)).toBeGreaterThan(Date.now());
  });

  it("rejects a missing or unknown token (401), a non-JWT on app routes, and an unknown installation", async () => {
    world = await startWorld();
    const anonymous = new Octokit({ baseUrl: world.emu.url, log: quiet });
    const forged = new Octokit({ baseUrl: world.emu.url, auth: "ghs_forged", log: quiet });
    const app = new Octokit({ baseUrl: world.emu.url, auth: FAKE_JWT, log: quiet });
    expect(await statusOf(anonymous.rest.pulls.list({ owner: "octo", repo: "app" }))).toBe(401);
    expect(await statusOf(forged.rest.pulls.list({ owner: "octo", repo: "app" }))).toBe(401);
    expect(await statusOf(forged.rest.apps.createInstallationAccessToken({ installation_id: INSTALLATION_ID }))).toBe(401);
    expect(await statusOf(app.rest.apps.createInstallationAccessToken({ installation_id: 999 }))).toBe(404);
    // An app JWT is not an installation token.
    expect(await statusOf(app.rest.pulls.list({ owner: "octo", repo: "app" }))).toBe(401);
  });

  it("404s a repo that does not exist or that the token's installation does not cover", async () => {
    world = await startWorld();
    world.emu.seedRepo({ owner: "other", name: "repo", installationId: 8 });
    expect(await statusOf(world.octokit.rest.pulls.list({ owner: "octo", repo: "nope" }))).toBe(404);
    expect(await statusOf(world.octokit.rest.pulls.list({ owner: "other", repo: "repo" }))).toBe(404);
  });

  it("404s an undocumented path, like GitHub", async () => {
    world = await startWorld();
    expect(await statusOf(world.octokit.request("GET /repos/{owner}/{repo}/no-such-thing", { owner: "octo", repo: "app" }))).toBe(404);
  });

  it("serves Probot's own flow: RS256 app JWT → installation token → config file via octokit.config", async () => {
    world = await startWorld();
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const probot = new Probot({
      appId: 1,
      privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      baseUrl: world.emu.url,
      // The function form is what switches throttling and retries off.
      Octokit: ProbotOctokit.defaults((options: object) => ({ ...options, throttle: { enabled: false }, retry: { enabled: false } })),
      logLevel: "fatal",
    });
    const octokit = await probot.auth(INSTALLATION_ID);
    const { config } = await octokit.config.get({ owner: "octo", repo: "app", path: ".github/gantry.yml" });
    expect(config).toEqual({ environments: { production: {} } });
    const missing = await octokit.config.get({ owner: "octo", repo: "app", path: ".github/absent.yml" });
    expect(missing.config).toEqual({});
  });
});
