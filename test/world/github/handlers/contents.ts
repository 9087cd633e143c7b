// Repository contents (how Probot reads `.github/gantry.yml`), commit trees and tarballs.
import { createHash } from "node:crypto";
import { type Ctx, type Handler, HttpError, found, repoOf } from "../http.ts";
import { type Repo, resolveRef } from "../state.ts";
import { tarGz } from "../tar.ts";

const blobSha = (content: Buffer): string =>
  createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");

function entryView(ctx: Ctx, repo: Repo, ref: string, path: string, type: "file" | "dir", content?: Buffer): Record<string, unknown> {
  const api = `${ctx.baseUrl}/repos/${repo.fullName}/contents/${path}?ref=${ref}`;
  const html = `${ctx.baseUrl}/${repo.fullName}/${type === "dir" ? "tree" : "blob"}/${ref}/${path}`;
  const sha = content ? blobSha(content) : createHash("sha1").update(path).digest("hex");
  return {
    type,
    name: path.split("/").at(-1),
    path,
    sha,
    size: content?.length ?? 0,
    url: api,
    html_url: html,
    git_url: `${ctx.baseUrl}/repos/${repo.fullName}/git/blobs/${sha}`,
    download_url: content ? `${ctx.baseUrl}/_raw/${repo.fullName}/${ref}/${path}` : null,
    _links: { self: api, git: `${ctx.baseUrl}/repos/${repo.fullName}/git/blobs/${sha}`, html },
  };
}

export const contentHandlers: Record<string, Handler> = {
  "repos/get-content": (ctx) => {
    const repo = repoOf(ctx);
    const ref = ctx.query.get("ref") ?? repo.defaultBranch;
    const files = found(repo.commits.get(found(resolveRef(repo, ref))));
    const path = (ctx.params.path ?? "").replace(/^\/+|\/+$/g, "");
    const content = files.get(path);
    if (content) {
      // Accept: application/vnd.github.raw (Octokit's mediaType.format "raw") gets the bytes.
      if (/\.raw\b/.test(String(ctx.headers.accept))) {
        return { status: 200, raw: { contentType: "text/plain; charset=utf-8", body: content } };
      }
      const base64 = content.toString("base64").replace(/.{60}/g, "$&\n");
      return { status: 200, data: { ...entryView(ctx, repo, ref, path, "file", content), content: base64, encoding: "base64" } };
    }
    const prefix = path === "" ? "" : `${path}/`;
    const children = new Map<string, "file" | "dir">();
    for (const file of files.keys()) {
      if (!file.startsWith(prefix)) continue;
      const [name = "", ...rest] = file.slice(prefix.length).split("/");
      children.set(name, rest.length > 0 ? "dir" : "file");
    }
    if (children.size === 0) throw new HttpError(404, "Not Found");
    const entries = [...children].map(([name, type]) => entryView(ctx, repo, ref, prefix + name, type, files.get(prefix + name)));
    return { status: 200, data: entries };
  },
  "git/get-tree": (ctx) => {
    const repo = repoOf(ctx);
    const sha = found(resolveRef(repo, ctx.params.tree_sha));
    const files = found(repo.commits.get(sha));
    const recursive = ctx.query.get("recursive") !== null;
    const dirs = new Set<string>();
    for (const path of files.keys()) {
      const parts = path.split("/");
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
    }
    const entries = [
      ...[...dirs].map((path) => ({ path, mode: "040000", type: "tree", sha: createHash("sha1").update(`tree:${path}`).digest("hex") })),
      ...[...files].map(([path, content]) => ({ path, mode: "100644", type: "blob", sha: blobSha(content), size: content.length })),
    ]
      .filter((entry) => recursive || !entry.path.includes("/"))
      .toSorted((a, b) => a.path.localeCompare(b.path))
      .map((entry) => ({ ...entry, url: `${ctx.baseUrl}/repos/${repo.fullName}/git/${entry.type === "tree" ? "trees" : "blobs"}/${entry.sha}` }));
    return { status: 200, data: { sha, url: `${ctx.baseUrl}/repos/${repo.fullName}/git/trees/${sha}`, truncated: false, tree: entries } };
  },
  "repos/download-tarball-archive": (ctx) => {
    const repo = repoOf(ctx);
    const sha = found(resolveRef(repo, ctx.params.ref));
    return { status: 302, headers: { location: `${ctx.baseUrl}/_codeload/${repo.fullName}/legacy.tar.gz/${sha}` } };
  },
};

/** What codeload.github.com serves behind the tarball redirect: `{owner}-{repo}-{sha7}/...`. */
export function codeloadTarball(repo: Repo, sha: string): Buffer | undefined {
  const files = repo.commits.get(sha);
  return files && tarGz(`${repo.owner.login}-${repo.name}-${sha.slice(0, 7)}`, files);
}
