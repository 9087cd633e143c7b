// Sends a flood of signed deliveries from its own process, so the process that runs the emulators
// is not the one busy sending. Reads `{ id, body }` lines from the file named in argv[3], posts them
// as `issue_comment` deliveries to argv[2] with FLOOD_CONCURRENCY in flight, and prints one JSON line
// per delivery answered; it holds the second half back until a line arrives on stdin.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { post } from "./fuzz-run.ts";

const [url, file] = process.argv.slice(2) as [string, string];
const deliveries = readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { id: string; body: string });
const concurrency = Number(process.env.FLOOD_CONCURRENCY ?? 16);
const released = new Promise<void>((resolve) => createInterface({ input: process.stdin }).once("line", () => resolve()));
let next = 0;

async function sender(): Promise<void> {
  while (next < deliveries.length) {
    const index = next;
    next += 1;
    if (index >= deliveries.length / 2) await released;
    const { id, body } = deliveries[index]!;
    process.stdout.write(`${JSON.stringify({ answer: await post(url, "issue_comment", body, id) })}\n`);
  }
}

await Promise.all(Array.from({ length: concurrency }, sender));
