// The contract between the emulator's server and its handlers.
import type { IncomingHttpHeaders } from "node:http";
import type { GithubState, Repo } from "./state.ts";

export class HttpError extends Error {
  readonly status: number;
  readonly data: Record<string, unknown>;
  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.data = { message, documentation_url: "https://docs.github.com/rest", status: String(status), ...extra };
  }
}

export interface Ctx {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The JSON body, already validated against the operation's request schema. */
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  state: GithubState;
  baseUrl: string;
  /** Installation of the token used; undefined for app (JWT) calls and user tokens. */
  installationId: number | undefined;
  /** The user a user token (OAuth web flow) was issued to. */
  userLogin?: string | undefined;
}

export interface Reply {
  status: number;
  /** The fields that matter; the rest of the documented response shape is filled in. */
  data?: unknown;
  /** A list to page through (`per_page`, `page`, Link header); `wrap` builds the body of one page. */
  list?: { items: unknown[]; wrap?: (page: unknown[], total: number) => unknown };
  /** A non-JSON body, sent as is and not shaped. */
  raw?: { contentType: string; body: string | Buffer };
  headers?: Record<string, string>;
}

export type Handler = (ctx: Ctx) => Reply;

/** The repo named in the path, if it exists and the caller's installation covers it (else 404, as GitHub). */
export function repoOf(ctx: Ctx): Repo {
  const repo = ctx.state.repos.get(`${ctx.params.owner}/${ctx.params.repo}`.toLowerCase());
  if (!repo || (ctx.installationId !== undefined && repo.installationId !== ctx.installationId)) {
    throw new HttpError(404, "Not Found");
  }
  return repo;
}

export function intParam(ctx: Ctx, name: string): number {
  return Number(ctx.params[name]);
}

export function found<T>(value: T | undefined): T {
  if (value === undefined) throw new HttpError(404, "Not Found");
  return value;
}
