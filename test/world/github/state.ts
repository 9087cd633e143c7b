// In-memory state of the GitHub emulator and its typed seeding API.
import { createHash } from "node:crypto";

export type Permission = "admin" | "maintain" | "write" | "triage" | "read" | "none";

export interface User {
  login: string;
  id: number;
  type: "User" | "Bot" | "Organization";
}

export interface Comment {
  id: number;
  issueNumber: number;
  body: string;
  user: User;
  createdAt: string;
  updatedAt: string;
  reactions: Array<{ id: number; content: string; user: User; createdAt: string }>;
}

export interface Pull {
  number: number;
  id: number;
  title: string;
  body: string;
  state: "open" | "closed";
  draft: boolean;
  user: User;
  head: { ref: string; sha: string; fullName: string };
  base: { ref: string; sha: string };
  createdAt: string;
}

export interface CheckRun {
  id: number;
  name: string;
  headSha: string;
  status: string;
  conclusion: string | null;
  externalId: string;
  detailsUrl: string | null;
  startedAt: string | null;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null; annotations: unknown[] };
  /** Requested actions: buttons that send `check_run.requested_action`. */
  actions: Array<{ label: string; description: string; identifier: string }>;
  appId: number;
  checkSuiteId: number;
}

export interface DeploymentStatus {
  id: number;
  state: string;
  description: string;
  environment: string;
  targetUrl: string;
  logUrl: string;
  environmentUrl: string;
  creator: User;
  createdAt: string;
}

export interface Deployment {
  id: number;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  description: string | null;
  payload: unknown;
  transientEnvironment: boolean;
  productionEnvironment: boolean;
  creator: User;
  createdAt: string;
  statuses: DeploymentStatus[];
}

export interface Repo {
  id: number;
  owner: User;
  name: string;
  fullName: string;
  private: boolean;
  defaultBranch: string;
  installationId: number;
  branches: Map<string, string>;
  /** Files per commit sha. */
  commits: Map<string, Map<string, Buffer>>;
  permissions: Map<string, Permission>;
  pulls: Map<number, Pull>;
  comments: Map<number, Comment>;
  checkRuns: Map<number, CheckRun>;
  /** Check suite id per `appId:headSha`. */
  checkSuites: Map<string, number>;
  deployments: Map<number, Deployment>;
}

export interface Team {
  org: string;
  slug: string;
  members: Map<string, { role: "member" | "maintainer"; state: "active" | "pending" }>;
}

export interface GithubState {
  appId: number;
  /** The installation's bot, author of comments, check runs and deployments made with its token. */
  botUser: User;
  users: Map<string, User>;
  repos: Map<string, Repo>;
  teams: Map<string, Team>;
  /** Installation tokens issued, token → installation id. */
  tokens: Map<string, number>;
  nextId(): number;
}

export interface SeedRepo {
  owner: string;
  name: string;
  ownerType?: "User" | "Organization";
  installationId?: number;
  defaultBranch?: string;
  private?: boolean;
}

export interface SeedCommit {
  /** Branch to point at the commit (created or moved). */
  branch?: string;
  /** Defaults to a sha1 over the files, so equal trees give equal shas. */
  sha?: string;
  files: Record<string, string | Buffer>;
}

export interface SeedPull {
  number?: number;
  title?: string;
  body?: string;
  user: string;
  head: { ref: string; sha: string };
  base?: { ref: string };
  state?: "open" | "closed";
  draft?: boolean;
}

export const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, "Z");

export function createState(appId: number, appSlug: string): GithubState {
  let id = 1000;
  const botUser: User = { login: `${appSlug}[bot]`, id: 900, type: "Bot" };
  return { appId, botUser, users: new Map(), repos: new Map(), teams: new Map(), tokens: new Map(), nextId: () => ++id };
}

export function seedUser(state: GithubState, login: string, type: User["type"] = "User"): User {
  const existing = state.users.get(login.toLowerCase());
  if (existing) return existing;
  const user = { login, id: state.nextId(), type };
  state.users.set(login.toLowerCase(), user);
  return user;
}

export function seedRepo(state: GithubState, seed: SeedRepo): Repo {
  const fullName = `${seed.owner}/${seed.name}`;
  const repo: Repo = {
    id: state.nextId(),
    owner: seedUser(state, seed.owner, seed.ownerType ?? "Organization"),
    name: seed.name,
    fullName,
    private: seed.private ?? false,
    defaultBranch: seed.defaultBranch ?? "main",
    installationId: seed.installationId ?? 1,
    branches: new Map(),
    commits: new Map(),
    permissions: new Map(),
    pulls: new Map(),
    comments: new Map(),
    checkRuns: new Map(),
    checkSuites: new Map(),
    deployments: new Map(),
  };
  state.repos.set(fullName.toLowerCase(), repo);
  return repo;
}

export function seedCommit(repo: Repo, seed: SeedCommit): string {
  const files = new Map(Object.entries(seed.files).map(([path, content]) => [path, Buffer.from(content)] as const));
  const hash = createHash("sha1");
  for (const [path, content] of [...files].toSorted(([a], [b]) => a.localeCompare(b))) hash.update(path).update(content);
  const sha = seed.sha ?? hash.digest("hex");
  repo.commits.set(sha, files);
  if (seed.branch) repo.branches.set(seed.branch, sha);
  return sha;
}

export function seedPull(state: GithubState, repo: Repo, seed: SeedPull): Pull {
  const number = seed.number ?? Math.max(0, ...repo.pulls.keys()) + 1;
  const baseRef = seed.base?.ref ?? repo.defaultBranch;
  const pull: Pull = {
    number,
    id: state.nextId(),
    title: seed.title ?? `Pull request ${number}`,
    body: seed.body ?? "",
    state: seed.state ?? "open",
    draft: seed.draft ?? false,
    user: seedUser(state, seed.user),
    head: { ...seed.head, fullName: repo.fullName },
    base: { ref: baseRef, sha: repo.branches.get(baseRef) ?? "0".repeat(40) },
    createdAt: now(),
  };
  repo.pulls.set(number, pull);
  // A pull's head commit exists on GitHub even when the test seeded no files for it.
  if (!repo.commits.has(pull.head.sha)) repo.commits.set(pull.head.sha, new Map());
  return pull;
}

export function seedComment(state: GithubState, repo: Repo, issueNumber: number, login: string, body: string): Comment {
  if (!repo.pulls.has(issueNumber)) throw new Error(`GitHub emulator: seed pull ${issueNumber} first`);
  const at = now();
  const comment = { id: state.nextId(), issueNumber, body, user: seedUser(state, login), createdAt: at, updatedAt: at, reactions: [] };
  repo.comments.set(comment.id, comment);
  return comment;
}

export function seedTeam(state: GithubState, org: string, slug: string, members: Array<{ login: string; role?: "member" | "maintainer"; state?: "active" | "pending" }>): Team {
  const team: Team = { org, slug, members: new Map() };
  for (const m of members) {
    seedUser(state, m.login);
    team.members.set(m.login.toLowerCase(), { role: m.role ?? "member", state: m.state ?? "active" });
  }
  state.teams.set(`${org}/${slug}`.toLowerCase(), team);
  return team;
}

/** A branch name or a full sha known to the repo, as a sha. */
export function resolveRef(repo: Repo, ref: string | null | undefined): string | undefined {
  const name = (ref ?? repo.defaultBranch).replace(/^refs\/heads\//, "");
  return repo.branches.get(name) ?? (repo.commits.has(name) ? name : undefined);
}
