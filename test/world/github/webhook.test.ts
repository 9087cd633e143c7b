import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { verify } from "@octokit/webhooks-methods";
import { afterEach, describe, expect, it } from "vitest";
import { startGithubEmulator } from "./emulator.ts";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe("GitHub emulator: webhooks", () => {
  it("posts the payload with a signature over the exact body, the event and a delivery id", async () => {
    const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
    const target = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(202).end("queued");
      });
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => target.close(() => resolve())));
    const port = (target.address() as AddressInfo).port;
    const emu = await startGithubEmulator({ webhookUrl: `http://127.0.0.1:${port}/api/github/webhooks`, webhookSecret: "s3cret" });
    closers.push(emu.close);

    const payload = { action: "created", comment: { body: "/deploy ünïcode" }, installation: { id: 7 } };
    const delivery = await emu.sendWebhook("issue_comment", payload);

    expect(delivery).toMatchObject({ status: 202, body: "queued" });
    const [request] = received;
    expect(request?.headers["x-github-event"]).toBe("issue_comment");
    expect(request?.headers["x-github-delivery"]).toBe(delivery.deliveryId);
    expect(JSON.parse(request?.body ?? "")).toEqual(payload);
    const signature = String(request?.headers["x-hub-signature-256"]);
    expect(await verify("s3cret", request?.body ?? "", signature)).toBe(true);
    expect(await verify("other", request?.body ?? "", signature)).toBe(false);
  });
});
