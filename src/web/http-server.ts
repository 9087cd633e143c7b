import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "probot";

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

/** Routes keyed by `METHOD /path` (query string ignored). */
export type Routes = Record<string, RouteHandler>;

export interface StartedServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(options: { routes: Routes; port: number; host: string; log: Logger }): Promise<StartedServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const handler = options.routes[`${request.method} ${path}`];
    if (!handler) {
      response.writeHead(404, { "content-type": "application/json" }).end('{"status":404,"message":"not found"}');
      return;
    }
    Promise.resolve(handler(request, response)).catch((error: unknown) => {
      options.log.error({ err: error, path }, "request failed");
      if (!response.headersSent) response.writeHead(500, { "content-type": "application/json" });
      response.end('{"status":500,"message":"internal error"}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
