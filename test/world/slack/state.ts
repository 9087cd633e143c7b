// In-memory Slack workspace: users, channels and the messages posted to them.
export interface SlackUser {
  id: string;
  name: string;
  realName: string;
  email: string;
  isBot: boolean;
}

export interface SlackMessage {
  ts: string;
  channel: string;
  text: string;
  blocks: unknown[];
  user: string;
  edited?: { user: string; ts: string };
}

export interface SlackWorkspace {
  teamId: string;
  domain: string;
  botUserId: string;
  botId: string;
  token: string;
  users: Map<string, SlackUser>;
  /** Channel id → name. */
  channels: Map<string, string>;
  messages: Map<string, SlackMessage>;
  nextTs(): string;
  nextId(prefix: string): string;
}

export function createWorkspace(token: string): SlackWorkspace {
  let counter = 0;
  let lastMicros = 0;
  return {
    teamId: "T0GANTRY",
    domain: "gantry-test",
    botUserId: "U0GANTRYBOT",
    botId: "B0GANTRY",
    token,
    users: new Map(),
    channels: new Map(),
    messages: new Map(),
    // Message timestamps are unique and increasing, as Slack's are within a channel.
    nextTs: () => {
      lastMicros = Math.max(lastMicros + 1, Date.now() * 1000);
      return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, "0")}`;
    },
    nextId: (prefix) => `${prefix}${String(++counter).padStart(8, "0")}`,
  };
}

/** A channel id, or `#name` / `name` of a seeded channel, as its id. */
export function channelId(ws: SlackWorkspace, channel: string): string | undefined {
  if (ws.channels.has(channel)) return channel;
  const name = channel.replace(/^#/, "");
  return [...ws.channels].find(([, n]) => n === name)?.[0];
}

export function userView(ws: SlackWorkspace, u: SlackUser): Record<string, unknown> {
  return {
    id: u.id,
    team_id: ws.teamId,
    name: u.name,
    real_name: u.realName,
    deleted: false,
    is_bot: u.isBot,
    is_admin: false,
    tz: "Etc/UTC",
    profile: { email: u.email, real_name: u.realName, display_name: u.name, team: ws.teamId },
  };
}
