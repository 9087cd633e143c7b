import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "probot";

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

/** Routes keyed by `METHOD /path` (query string ignored). */
export type Routes = Record<string, RouteHandler>;

/** How long a connection may take; Node answers 408 and closes when one runs out. */
export interface HttpTimeouts {
  /** From the first byte of a request to the end of its headers: a slow-loris sender is cut here. */
  headersTimeoutMs: number;
  /** From the first byte of a request to the end of its body: a sender that stops mid-body is cut here. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
}

export interface StartedServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(options: {
  routes: Routes;
  port: number;
  host: string;
  log: Logger;
  timeouts: HttpTimeouts;
}): Promise<StartedServer> {
  const { timeouts } = options;
  // Responses not yet finished, so that a stop can tell their connections not to stay open.
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      // Node checks for expired requests on this interval (30 s by default), which would add up to
      // 30 s to every timeout above.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(timeouts.headersTimeoutMs / 4))),
    },
    (request, response) => {
      inFlight.add(response);
      response.once("close", () => {
        inFlight.delete(response);
        if (closing) server.closeIdleConnections();
      });
      if (closing) response.setHeader("connection", "close");
      const path = (request.url ?? "/").split("?")[0];
      const handler = options.routes[`${request.method} ${path}`];
      if (!handler) {
        response.writeHead(404, { "content-type": "application/json" }).end('{"status":404,"message":"not found"}');
        return;
      }
      Promise.resolve(handler(request, response)).catch((error: unknown) => {
        options.log.error({ err: error, path }, "request failed");
        if (response.headersSent) return void response.destroy();
        response.writeHead(500, { "content-type": "application/json" }).end('{"status":500,"message":"internal error"}');
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    server,
    url: `http://${host}:${port}`,
    // Node stops enforcing the timeouts once the server is closing, so a sender that stalled would
    // hold the shutdown forever: requests still unfinished after one request timeout are cut. A
    // keep-alive connection with a request in flight would stay open for the keep-alive timeout after
    // its answer (behind a load balancer, over a minute): its answer says `Connection: close` instead.
    close: () =>
      new Promise((resolve) => {
        closing = true;
        for (const response of inFlight) if (!response.headersSent) response.setHeader("connection", "close");
        const cut = setTimeout(() => server.closeAllConnections(), timeouts.requestTimeoutMs);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
