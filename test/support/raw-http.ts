import { connect, type Socket } from "node:net";

/** How a raw connection ended: closed cleanly, or reset (`ECONNRESET`, `EPIPE`). */
export interface RawEnd {
  error: string | undefined;
  /** Everything received before the end. */
  received: string;
}

/**
 * An HTTP connection spoken byte by byte, for what `fetch` cannot do: stop sending, send slowly,
 * keep sending after the answer, and tell a clean close from a reset.
 */
export class RawConnection {
  readonly #socket: Socket;
  #received = "";
  #listeners: (() => void)[] = [];
  readonly ended: Promise<RawEnd>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    let error: string | undefined;
    socket.on("data", (chunk: Buffer) => {
      this.#received += chunk.toString("latin1");
      this.#notify();
    });
    socket.on("error", (cause: NodeJS.ErrnoException) => (error ??= cause.code ?? cause.message));
    this.ended = new Promise((resolve) =>
      socket.once("close", () => {
        this.#notify();
        resolve({ error, received: this.#received });
      }),
    );
  }

  static async open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new RawConnection(socket);
  }

  get received(): string {
    return this.#received;
  }

  get closed(): boolean {
    return this.#socket.destroyed || this.#socket.readableEnded;
  }

  /** Writes and waits until the kernel took the bytes; false when the connection is gone. */
  write(data: string | Buffer): Promise<boolean> {
    if (this.#socket.destroyed || !this.#socket.writable) return Promise.resolve(false);
    return new Promise((resolve) => this.#socket.write(data, (error) => resolve(!error)));
  }

  /** Resolves with what was received once `done` holds for it, or throws after `withinMs`. */
  async waitFor(done: (received: string) => boolean, withinMs: number): Promise<string> {
    const deadline = Date.now() + withinMs;
    while (!done(this.#received)) {
      if (this.#socket.destroyed) throw new Error(`connection ended with ${JSON.stringify(this.#received.slice(0, 200))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`not received within ${withinMs} ms; got ${JSON.stringify(this.#received.slice(0, 200))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.#received;
  }

  end(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #notify(): void {
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }
}

/** The request line and headers of a POST, as a client would send them before its body. */
export function postHead(path: string, headers: Record<string, string>): string {
  const lines = Object.entries({ host: "gantry.test", ...headers }).map(([name, value]) => `${name}: ${value}`);
  return `POST ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
}

/** A complete HTTP response in `received` (headers, then as many bytes as its Content-Length says). */
export function parsedResponse(received: string): { status: number; headers: Record<string, string>; body: string } | undefined {
  const split = received.indexOf("\r\n\r\n");
  if (split < 0) return undefined;
  const [statusLine, ...lines] = received.slice(0, split).split("\r\n");
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
  const body = received.slice(split + 4);
  const length = Number(headers["content-length"] ?? 0);
  if (Buffer.byteLength(body, "latin1") < length) return undefined;
  return { status: Number(statusLine!.split(" ")[1]), headers, body: body.slice(0, length) };
}
