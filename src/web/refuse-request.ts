import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Answers `status` and closes the connection without keeping the request body. Closing as soon as
 * the answer is flushed would reset the connection while the client is still sending, and a reset
 * client often never reads the answer. So the whole answer is written at once (its length is known,
 * so the client can read it), the rest of the body is discarded as it arrives, and the connection is
 * closed once the client has finished sending; the server's request timeout bounds that wait.
 */
export function refuseRequest(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ status, message });
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    connection: "close",
    ...headers,
  });
  response.write(body);
  if (request.complete) {
    response.end();
    return;
  }
  request.once("end", () => response.end());
  request.once("close", () => {
    if (!request.complete) response.destroy();
  });
  request.resume();
}
