// Idle memory: a Gantry that takes webhooks and has deployed nothing does not hold the AWS SDK (the
// largest part of its memory) or the PostgreSQL driver. Checked on the process `npm start` runs,
// from the modules it resolved, rather than on resident memory, which depends on the machine.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { gantryNodeArgs } from "../support/gantry-command.ts";
import { testEnv } from "../support/gantry.ts";
import { examplePayload, signedDelivery } from "../support/payloads.ts";
import { TEST_WEBHOOK_SECRET } from "../support/probot.ts";

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("condition not met within 20 s");
}

describe("modules loaded by a Gantry that has deployed nothing", () => {
  it("include Probot and the store, and neither the AWS SDK, the PostgreSQL driver nor Slack's Bolt, after it has taken and processed a webhook", async () => {
    const modulesFile = join(mkdtempSync(join(tmpdir(), "gantry-modules-")), "loaded.txt");
    const child = spawn(process.execPath, gantryNodeArgs("--import", "./test/fixtures/record-loaded-modules.ts"), {
      // Only Gantry's own settings: no AWS or database variables from the test runner's environment.
      env: { PATH: process.env.PATH ?? "", ...testEnv({ LOG_LEVEL: "info", GITHUB_API_URL: "http://127.0.0.1:9" }), LOADED_MODULES_FILE: modulesFile },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on("line", (line) => {
          const found = /Gantry listening on (http:\/\/\S+)/.exec(line)?.[1];
          if (found) resolve(found);
        });
        child.once("exit", (code) => reject(new Error(`Gantry exited (${code}) before listening`)));
      });
      const comment = examplePayload("issue_comment", (payload) => payload.action === "created");
      const delivery = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", comment, "delivery-lazy-modules");
      const response = await fetch(`${url}/api/github/webhooks`, { method: "POST", headers: delivery.headers, body: delivery.body });
      expect(response.status).toBe(202);
      await until(async () => ((await (await fetch(`${url}/healthz`)).json()) as { inbox: { done: number } }).inbox.done === 1);
    } finally {
      child.kill("SIGTERM");
      if (child.exitCode === null) await once(child, "exit");
    }

    const loaded = readFileSync(modulesFile, "utf8").split("\n");
    const packages = (name: string) => loaded.filter((url) => url.includes(`/node_modules/${name}/`));
    // The recorder sees packages: these are loaded by every Gantry.
    expect(packages("probot").length).toBeGreaterThan(0);
    expect(packages("kysely").length).toBeGreaterThan(0);
    expect(loaded.filter((url) => url.includes("/node_modules/@aws-sdk/"))).toEqual([]);
    expect(packages("pg")).toEqual([]);
    // Slack is off without its settings: Bolt is not loaded either.
    expect(loaded.filter((url) => url.includes("/node_modules/@slack/"))).toEqual([]);
    expect(loaded.filter((url) => url.endsWith("/src/deploy/aws-adapters.ts"))).toEqual([]);
  });
});
