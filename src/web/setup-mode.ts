import type { ServerResponse } from "node:http";
import { Probot, Server, type Logger } from "probot";
import type { ServerEnv } from "../config/server-env.ts";

type SetupHandlerFactory = Parameters<Server["loadHandlerFactory"]>[0];
interface SetupModule {
  setupAppFactory(options: { host: string; port: number; log: Logger }): SetupHandlerFactory;
}

/**
 * With no App credentials, serve Probot's own setup flow: it registers the GitHub App from `app.yml`
 * and writes APP_ID, PRIVATE_KEY and WEBHOOK_SECRET to `.env`. `/healthz` answers here too.
 */
export async function startSetupMode(env: ServerEnv, log: Logger): Promise<Server> {
  // Probot exports `run`, which wires this flow but offers no way to add `/healthz`; the factory it
  // uses is not in Probot's export map, so it is loaded by file URL.
  const setupUrl = new URL("./apps/setup.js", import.meta.resolve("probot"));
  const { setupAppFactory } = (await import(setupUrl.href)) as SetupModule;
  const server = new Server({
    host: env.HOST,
    port: env.PORT,
    log,
    // Probot's setup workaround: the instance is never used to call GitHub in setup mode.
    Probot: Probot.defaults({ appId: 1, privateKey: "unused in setup mode", log }),
  });
  server.addHandler((request, response: ServerResponse) => {
    if (request.method !== "GET" || request.url?.split("?")[0] !== "/healthz") return false;
    response.writeHead(200, { "content-type": "application/json" }).end('{"status":"setup","message":"register the GitHub App at /probot"}');
    return true;
  });
  await server.loadHandlerFactory(setupAppFactory({ host: server.host, port: server.port, log: log.child({ name: "setup" }) }));
  await server.start();
  return server;
}
