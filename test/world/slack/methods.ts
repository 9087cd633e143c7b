// The Slack Web API methods Gantry uses, with Slack's own error strings.
import { type SlackWorkspace, channelId, userView } from "./state.ts";

export type SlackResult = Record<string, unknown> & { ok: boolean };
type Method = (ws: SlackWorkspace, args: Record<string, unknown>) => SlackResult;

const fail = (error: string): SlackResult => ({ ok: false, error });

function messageView(ws: SlackWorkspace, m: { ts: string; text: string; blocks: unknown[]; user: string }): Record<string, unknown> {
  return { type: "message", ts: m.ts, text: m.text, blocks: m.blocks, user: m.user, bot_id: ws.botId, team: ws.teamId };
}

function content(args: Record<string, unknown>): { text: string; blocks: unknown[] } | undefined {
  const blocks = Array.isArray(args.blocks) ? args.blocks : [];
  const text = typeof args.text === "string" ? args.text : "";
  return text === "" && blocks.length === 0 && args.attachments === undefined ? undefined : { text, blocks };
}

export const METHODS: Record<string, Method> = {
  "auth.test": (ws) => ({
    ok: true,
    url: `https://${ws.domain}.slack.com/`,
    team: ws.domain,
    user: "gantry",
    team_id: ws.teamId,
    user_id: ws.botUserId,
    bot_id: ws.botId,
    is_enterprise_install: false,
  }),
  "chat.postMessage": (ws, args) => {
    const channel = channelId(ws, String(args.channel ?? ""));
    if (!channel) return fail("channel_not_found");
    const body = content(args);
    if (!body) return fail("no_text");
    const message = { ts: ws.nextTs(), channel, user: ws.botUserId, ...body };
    ws.messages.set(`${channel}/${message.ts}`, message);
    return { ok: true, channel, ts: message.ts, message: messageView(ws, message) };
  },
  "chat.update": (ws, args) => {
    const channel = channelId(ws, String(args.channel ?? ""));
    if (!channel) return fail("channel_not_found");
    const message = ws.messages.get(`${channel}/${String(args.ts)}`);
    if (!message) return fail("message_not_found");
    const body = content(args);
    if (!body) return fail("no_text");
    Object.assign(message, body, { edited: { user: ws.botUserId, ts: ws.nextTs() } });
    return { ok: true, channel, ts: message.ts, text: message.text, message: messageView(ws, message) };
  },
  "chat.postEphemeral": (ws, args) => {
    const channel = channelId(ws, String(args.channel ?? ""));
    if (!channel) return fail("channel_not_found");
    if (!ws.users.has(String(args.user))) return fail("user_not_found");
    if (!content(args)) return fail("no_text");
    return { ok: true, message_ts: ws.nextTs() };
  },
  "users.info": (ws, args) => {
    const user = ws.users.get(String(args.user));
    return user ? { ok: true, user: userView(ws, user) } : fail("user_not_found");
  },
  "users.lookupByEmail": (ws, args) => {
    const email = String(args.email ?? "").toLowerCase();
    const user = [...ws.users.values()].find((u) => u.email.toLowerCase() === email);
    return user ? { ok: true, user: userView(ws, user) } : fail("users_not_found");
  },
};
