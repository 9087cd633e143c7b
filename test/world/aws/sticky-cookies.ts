// The load balancer's stickiness cookies. AWSALBTG pins a client to a target group of a weighted
// forward (group stickiness); AWSALB pins it to a target within a group (target stickiness,
// lb_cookie). AWS encrypts them; here they are opaque base64url JSON, expiring where AWS's do.
import type { IncomingMessage } from "node:http";

export const GROUP_COOKIE = "AWSALBTG";
export const TARGET_COOKIE = "AWSALB";

export interface GroupCookie {
  group: string;
  expiresAt: number;
}

export interface TargetCookie {
  group: string;
  id: string;
  port: number;
  expiresAt: number;
}

export function readCookie<T extends { expiresAt: number }>(req: IncomingMessage, name: string, now = Date.now()): T | undefined {
  const header = req.headers.cookie ?? "";
  for (const part of header.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key !== name) continue;
    try {
      const value = JSON.parse(Buffer.from(rest.join("="), "base64url").toString("utf8")) as T;
      return typeof value.expiresAt === "number" && value.expiresAt > now ? value : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A Set-Cookie header value; `realMs` is how long the cookie lives in this world's time. */
export function setCookie(name: string, value: object, realMs: number, now = Date.now()): string {
  const expiresAt = now + realMs;
  const encoded = Buffer.from(JSON.stringify({ ...value, expiresAt })).toString("base64url");
  return `${name}=${encoded}; Expires=${new Date(expiresAt).toUTCString()}; Path=/`;
}
