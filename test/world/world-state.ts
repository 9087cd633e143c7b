// Where a running world says how to reach it: a small JSON file (default data/world/world.json,
// or WORLD_STATE_FILE), written once the world is up and removed when it stops.
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";

export const worldStateSchema = z.object({
  pid: z.number().int(),
  control: z.url(),
  github: z.url(),
  aws: z.object({ endpoint: z.url(), region: z.string() }),
  listeners: z.object({ production: z.url(), test: z.url() }),
  appId: z.number().int(),
  webhookSecret: z.string(),
  privateKeyPath: z.string(),
  webhookUrl: z.url().nullable(),
});
export type WorldState = z.infer<typeof worldStateSchema>;

export function worldStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.WORLD_STATE_FILE ?? "data/world/world.json";
}

/** The running world's state, or undefined when none has written it. */
export function readWorldState(file = worldStateFile()): WorldState | undefined {
  if (!existsSync(file)) return undefined;
  return worldStateSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}
