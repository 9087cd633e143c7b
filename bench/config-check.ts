// The longest the event loop is blocked while one bad `.github/gantry.yml` is checked (each kind the
// gantry/config check refuses, at its worst size under the 256 KB limit, or past it), beside the time
// to check the README's valid example. Goal: no config blocks the loop for more than 100 ms.
import type { ProbotOctokit } from "probot";
import { loadRepoConfig } from "../src/config/load-repo-config.ts";
import { MAX_CONFIG_BYTES } from "../src/config/parse-config-yaml.ts";
import { recordBenchResults } from "./results.ts";

const VALID = `environments:
  production:
    aws: { region: us-east-1, roleArn: "arn:aws:iam::123456789012:role/gantry-web" }
    ecs: { cluster: prod, services: { blue: web-blue, green: web-green } }
    targetGroups:
      blue: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/1
      green: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/2
    listeners: { production: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/3/4" }
    strategy:
      type: canary
      steps: [{ weight: 5, bake: 5m }, { weight: 25, bake: 10m }, { weight: 100, bake: 15m }]
`;

/** Repeats `line(i)` until the text is just under the size limit. */
function filled(head: string, line: (index: number) => string, limit = MAX_CONFIG_BYTES - 64): string {
  const parts = [head];
  let length = head.length;
  for (let index = 0; ; index++) {
    const next = line(index);
    if (length + next.length > limit) return parts.join("");
    parts.push(next);
    length += next.length;
  }
}

const BAD_CONFIGS: Record<string, string> = {
  "alias bomb": ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]", ...Array.from({ length: 8 }, (_, level) => `${String.fromCharCode(98 + level)}: &${String.fromCharCode(98 + level)} [${Array.from({ length: 9 }, () => `*${String.fromCharCode(97 + level)}`).join(", ")}]`)].join("\n"),
  "deep flow nesting": `a: ${"[".repeat(MAX_CONFIG_BYTES / 2 - 8)}${"]".repeat(MAX_CONFIG_BYTES / 2 - 8)}\n`,
  "deep block nesting": filled("", (depth) => `${" ".repeat(depth)}k:\n`),
  "top level list": filled("", (index) => `- item ${index}\n`),
  "_extends: 42": `${VALID}_extends: 42\n`,
  "wrong types": filled("environments:\n", (index) => `  env${index}: { aws: 42, ecs: [], strategy: nine }\n`),
  "unknown keys": VALID.replace("    strategy:\n", `${filled("", (index) => `    unknown_${index}: ${index}\n`, MAX_CONFIG_BYTES - VALID.length - 64)}    strategy:\n`),
  "duplicate keys": filled("", (index) => `k${index % 1000}: ${index}\n`),
  "over 256 KB": `${VALID}${"# padding\n".repeat(100_000)}`,
};

/** Serves one file for every read, as the contents API does. */
function octokitServing(text: string): InstanceType<typeof ProbotOctokit> {
  return { request: async () => ({ data: text, headers: {} }) } as unknown as InstanceType<typeof ProbotOctokit>;
}

async function check(text: string) {
  return await loadRepoConfig(octokitServing(text), { owner: "o", repo: "r", ref: "main" });
}

/** The longest gap between two ticks of a 1 ms timer while `text` was checked: the loop was blocked that long. */
async function worstBlockMs(text: string): Promise<{ blockMs: number; status: string }> {
  let last = performance.now();
  let worst = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const result = await check(text);
  await new Promise((resolve) => setTimeout(resolve, 5));
  clearInterval(ticker);
  return { blockMs: worst, status: result.status };
}

export async function benchConfigCheck(): Promise<void> {
  const validMs: number[] = [];
  for (let round = 0; round < 50; round++) {
    const started = performance.now();
    const result = await check(VALID);
    validMs.push(performance.now() - started);
    if (result.status !== "valid") throw new Error("the valid example did not check as valid");
  }
  const rows = [];
  let worst = 0;
  for (const [kind, text] of Object.entries(BAD_CONFIGS)) {
    await worstBlockMs(text); // warm up the parser's code paths for this shape
    const { blockMs, status } = await worstBlockMs(text);
    if (status !== "invalid") throw new Error(`${kind} checked as ${status}`);
    worst = Math.max(worst, blockMs);
    rows.push({ config: kind, "KB": Math.ceil(Buffer.byteLength(text) / 1024), "event loop blocked ms": blockMs.toFixed(1) });
  }
  const validMedianMs = validMs.toSorted((a, b) => a - b)[Math.floor(validMs.length / 2)]!;
  console.log("\ngantry/config check: worst event-loop block per bad config (goal ≤ 100 ms)");
  console.table([...rows, { config: "valid example (baseline, median time to check)", KB: 1, "event loop blocked ms": validMedianMs.toFixed(2) }]);
  recordBenchResults({ "config.maxEventLoopBlockMs": Number(worst.toFixed(1)), "config.validCheckMs": Number(validMedianMs.toFixed(2)) });
}
