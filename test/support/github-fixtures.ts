import type { GithubNock } from "./github-nock.ts";
import { TEST_INSTALLATION_ID } from "./probot.ts";
import type nock from "nock";

/** Answers Probot's installation token request, as every authenticated handler makes one first. */
export function nockInstallationToken(gh: nock.Scope & GithubNock): void {
  gh.post(`/app/installations/${TEST_INSTALLATION_ID}/access_tokens`).reply(201, {
    token: "ghs_test",
    expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    permissions: { checks: "write", contents: "read" },
    repository_selection: "all",
  });
}

const CONFIG_FILE = "contents/\\.github(%2F|/)gantry\\.yml";

/**
 * Serves `.github/gantry.yml` (raw) for the repository, or, when `text` is undefined, a 404 for it
 * and for the org-wide `.github` repository that Probot's config loader falls back to.
 */
export function nockConfigFile(gh: nock.Scope, repoFullName: string, text: string | undefined): void {
  if (text !== undefined) {
    gh.get(new RegExp(`^/repos/${repoFullName}/${CONFIG_FILE}`))
      .times(2)
      .reply(200, text, { "content-type": "text/plain; charset=utf-8" });
    return;
  }
  const owner = repoFullName.split("/")[0];
  gh.get(new RegExp(`^/repos/${owner}/[^/]+/${CONFIG_FILE}`))
    .times(2)
    .reply(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
}
