// How Gantry's own process is started, as `npm start` (package.json) and the container image
// (Dockerfile's CMD) start it, for the harnesses that run it as a child process.
import { fileURLToPath } from "node:url";

/**
 * V8 options Gantry runs with. Under a burst of webhooks V8 grows the young generation to 128 MB
 * (two 64 MB semi-spaces) and keeps it; 16 MB semi-spaces cut the fuzz suite's peak resident
 * memory by about 100 MB at a few per cent of intake throughput. A test checks that package.json
 * and the Dockerfile pass the same.
 */
export const GANTRY_NODE_OPTIONS = ["--max-semi-space-size=16"];

export const GANTRY_MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

/** `node`'s arguments for Gantry as `npm start` runs it, with `nodeOptions` of the harness's own before the script. */
export function gantryNodeArgs(...nodeOptions: string[]): string[] {
  return [...GANTRY_NODE_OPTIONS, ...nodeOptions, GANTRY_MAIN];
}
