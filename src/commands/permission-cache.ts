import type { RepoRef } from "../deploy/api.ts";

/** How long a looked-up role is trusted: a flood costs one lookup per user and repository per period. */
export const PERMISSION_CACHE_TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  role: Promise<string>;
  until: number;
}

/**
 * Collaborator roles per installation, repository and user, kept briefly. Lookups in flight are
 * shared, so a burst of comments from one user costs one request. Failed lookups are not kept.
 */
export class PermissionCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? PERMISSION_CACHE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  roleOf(repo: RepoRef, login: string, lookUp: () => Promise<string>): Promise<string> {
    const key = keyOf(repo, login);
    const now = this.#now();
    const cached = this.#entries.get(key);
    if (cached && cached.until > now) return cached.role;
    this.#entries.delete(key);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    const role = lookUp();
    this.#entries.set(key, { role, until: now + this.#ttlMs });
    role.catch(() => {
      if (this.#entries.get(key)?.role === role) this.#entries.delete(key);
    });
    return role;
  }

  /** The role if a lookup finished within the period, without asking GitHub. */
  async known(repo: RepoRef, login: string): Promise<string | undefined> {
    const cached = this.#entries.get(keyOf(repo, login));
    if (!cached || cached.until <= this.#now()) return undefined;
    return cached.role.catch(() => undefined);
  }
}

function keyOf(repo: RepoRef, login: string): string {
  return `${repo.installationId}/${repo.id}/${login.toLowerCase()}`;
}
