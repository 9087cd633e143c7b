import { createHash, randomBytes } from "node:crypto";
import type { Store } from "../store/open-store.ts";

/** How a Slack user's GitHub identity is known: linked by themselves through GitHub, or by the operator's file. */
export interface LinkedIdentity {
  githubLogin: string;
  source: "github-authorisation" | "operator-file";
  linkedAt: number | null;
}

export interface LinkRequest {
  slackUserId: string;
  slackTeamId: string;
  slackUserName: string;
  /** Set once the person has authorised the app on GitHub, before they confirm. */
  github: { login: string; id: number } | null;
}

/** A link URL works once, within this long. */
export const LINK_REQUEST_TTL_MS = 10 * 60_000;

/** Only the hash of a link token is stored: a read of the store does not hand out working links. */
const hashOf = (token: string): string => createHash("sha256").update(token).digest("hex");

/**
 * Slack ↔ GitHub identities. The operator's file wins over links people made; a link is made only
 * through GitHub's user authorisation (`/gantry link`), never from anything a repository says.
 */
export class SlackIdentities {
  readonly #store: Store;
  readonly #operatorFile: ReadonlyMap<string, string>;
  readonly #now: () => number;

  constructor(store: Store, operatorFile: ReadonlyMap<string, string> = new Map(), now: () => number = Date.now) {
    this.#store = store;
    this.#operatorFile = operatorFile;
    this.#now = now;
  }

  /** The GitHub user a Slack user acts as in `team`, if any. */
  async find(slackUserId: string, slackTeamId: string): Promise<LinkedIdentity | undefined> {
    const fromFile = this.#operatorFile.get(slackUserId);
    if (fromFile) return { githubLogin: fromFile, source: "operator-file", linkedAt: null };
    const row = await this.#store.db
      .selectFrom("slack_identities")
      .selectAll()
      .where("slack_user_id", "=", slackUserId)
      .where("slack_team_id", "=", slackTeamId)
      .executeTakeFirst();
    return row && { githubLogin: row.github_login, source: "github-authorisation", linkedAt: Number(row.linked_at) };
  }

  isSetByOperator(slackUserId: string): boolean {
    return this.#operatorFile.has(slackUserId);
  }

  /** A one-time link token for a Slack user: the URL carries it, the store keeps its hash. */
  async requestLink(request: Omit<LinkRequest, "github">): Promise<string> {
    const token = randomBytes(32).toString("base64url");
    const now = this.#now();
    await this.#store.db
      .insertInto("slack_link_requests")
      .values({
        token_hash: hashOf(token),
        slack_user_id: request.slackUserId,
        slack_team_id: request.slackTeamId,
        slack_user_name: request.slackUserName,
        expires_at: now + LINK_REQUEST_TTL_MS,
        github_login: null,
        github_id: null,
        used_at: null,
        created_at: now,
      })
      .execute();
    // Spent and expired requests are of no use to anyone.
    await this.#store.db.deleteFrom("slack_link_requests").where("expires_at", "<", now - LINK_REQUEST_TTL_MS).execute();
    return token;
  }

  /** The pending request a token names: unused and unexpired, else undefined. */
  async pendingLink(token: string): Promise<LinkRequest | undefined> {
    const row = await this.#store.db
      .selectFrom("slack_link_requests")
      .selectAll()
      .where("token_hash", "=", hashOf(token))
      .where("used_at", "is", null)
      .where("expires_at", ">", this.#now())
      .executeTakeFirst();
    if (!row) return undefined;
    const github = row.github_login !== null && row.github_id !== null ? { login: row.github_login, id: Number(row.github_id) } : null;
    return { slackUserId: row.slack_user_id, slackTeamId: row.slack_team_id, slackUserName: row.slack_user_name, github };
  }

  /** Records who authorised the app on GitHub for this request; the link is made only on confirmation. */
  async authorised(token: string, github: { login: string; id: number }): Promise<boolean> {
    const result = await this.#store.db
      .updateTable("slack_link_requests")
      .set({ github_login: github.login, github_id: github.id })
      .where("token_hash", "=", hashOf(token))
      .where("used_at", "is", null)
      .where("expires_at", ">", this.#now())
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Spends the token and stores the pair; undefined when the token is spent, expired or not yet authorised. */
  async confirm(token: string): Promise<{ request: LinkRequest; githubLogin: string } | undefined> {
    const now = this.#now();
    return this.#store.db.transaction().execute(async (trx) => {
      const spent = await trx
        .updateTable("slack_link_requests")
        .set({ used_at: now })
        .where("token_hash", "=", hashOf(token))
        .where("used_at", "is", null)
        .where("expires_at", ">", now)
        .where("github_login", "is not", null)
        .returningAll()
        .executeTakeFirst();
      if (!spent || spent.github_login === null || spent.github_id === null) return undefined;
      const identity = {
        slack_user_id: spent.slack_user_id,
        slack_team_id: spent.slack_team_id,
        github_login: spent.github_login,
        github_id: Number(spent.github_id),
        linked_at: now,
      };
      await trx
        .insertInto("slack_identities")
        .values(identity)
        .onConflict((conflict) => conflict.column("slack_user_id").doUpdateSet({ slack_team_id: identity.slack_team_id, github_login: identity.github_login, github_id: identity.github_id, linked_at: now }))
        .execute();
      const request = { slackUserId: spent.slack_user_id, slackTeamId: spent.slack_team_id, slackUserName: spent.slack_user_name, github: { login: spent.github_login, id: Number(spent.github_id) } };
      return { request, githubLogin: spent.github_login };
    });
  }

  /** Removes a Slack user's link; true when there was one. */
  async unlink(slackUserId: string): Promise<boolean> {
    const result = await this.#store.db.deleteFrom("slack_identities").where("slack_user_id", "=", slackUserId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
