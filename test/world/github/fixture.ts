// Shared set-up for the emulator's contract tests: one org repo, installed, with a token.
import { Octokit } from "@octokit/rest";
import { type GithubEmulator, startGithubEmulator } from "./emulator.ts";

export const INSTALLATION_ID = 7;
export const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
// Any well-formed JWT is accepted; the emulator does not hold the app's public key.
export const FAKE_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln";

export interface World {
  emu: GithubEmulator;
  octokit: Octokit;
  sha: string;
}

export async function startWorld(opts: Parameters<typeof startGithubEmulator>[0] = {}): Promise<World> {
  const emu = await startGithubEmulator(opts);
  emu.seedRepo({ owner: "octo", name: "app", installationId: INSTALLATION_ID });
  const sha = emu.seedCommit("octo/app", {
    branch: "main",
    files: { ".github/gantry.yml": "environments:\n  production: {}\n", "src/index.ts": "export {};\n" },
  });
  const app = new Octokit({ baseUrl: emu.url, auth: FAKE_JWT, log: quiet });
  const { data } = await app.rest.apps.createInstallationAccessToken({ installation_id: INSTALLATION_ID });
  return { emu, sha, octokit: new Octokit({ baseUrl: emu.url, auth: data.token, log: quiet }) };
}

/** The status of a failed Octokit call (its RequestError), to assert on error cases. */
export async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (error) {
    return (error as { status: number }).status;
  }
  throw new Error("expected the call to fail");
}
