// The baseline the intake bench measures Gantry against: a bare Probot app (signature check, a no-op
// handler, 200) in its own process, as Probot's own server would run it. Prints its URL when listening.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, Probot } from "probot";
import { pino } from "pino";

const probot = new Probot({
  appId: Number(process.env.APP_ID),
  privateKey: process.env.PRIVATE_KEY!,
  secret: process.env.WEBHOOK_SECRET!,
  log: pino({ level: "silent" }),
});
const middleware = await createNodeMiddleware((app) => {
  app.on("issue_comment", async () => {});
}, { probot });
const server = createServer((request, response) => void middleware(request, response));
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
