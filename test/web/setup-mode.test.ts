import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { gantryNodeArgs } from "../support/gantry-command.ts";
import { afterEach, describe, expect, it } from "vitest";

/** `npm start` on a fresh clone: no credentials, no database server. */
describe("setup mode", () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
  });

  function start(env: Record<string, string>) {
    const child = spawn(process.execPath, gantryNodeArgs(), {
      // A scratch directory: no .env to read, nowhere to leave one.
      cwd: mkdtempSync(join(tmpdir(), "gantry-setup-")),
      env: { PATH: process.env.PATH ?? "", NO_SMEE_SETUP: "true", HOST: "127.0.0.1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    return child;
  }

  it("serves /healthz and Probot's page for registering the app from the manifest", async () => {
    // Probot's server reads PORT=0 as "unset" (3000), so hand it a free port.
    const child = start({ PORT: String(await freePort()) });
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const match = /Listening on (http:\/\/[^\s"]+)/.exec(line);
        if (match) resolve(match[1]!.replace("localhost", "127.0.0.1"));
      });
      child.once("exit", (code) => reject(new Error(`exited with ${code}`)));
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "setup" });
    const page = await fetch(`${url}/probot`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Register GitHub App");
  });

  it("stops when `npm start` is told to: SIGTERM to npm reaches the server", async () => {
    const port = await freePort();
    const npm = spawn("npm", ["start", "--silent"], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? "", NO_SMEE_SETUP: "true", HOST: "127.0.0.1", PORT: String(port), GANTRY_DATA_DIR: mkdtempSync(join(tmpdir(), "gantry-npm-")) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(npm);
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: npm.stdout! }).on("line", (line) => {
        if (line.includes("Listening on")) resolve();
      });
      npm.once("exit", (code) => reject(new Error(`npm start exited with ${code}`)));
    });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const exited = new Promise((resolve) => npm.once("exit", resolve));
    npm.kill("SIGTERM");
    await exited;
    // The server went with npm: nothing answers on its port any more.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it("stops with one line naming a malformed variable", async () => {
    const child = start({ PORT: "not-a-port" });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^gantry: configuration error: PORT .*\(got "not-a-port"\)$/);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
