import { z } from "zod";

/** The comment commands Gantry understands, as zod schemas: the types below come from them. */

/** The same rule `.github/gantry.yml` applies to environment names. */
const environment = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, "environment names are lower-case words such as staging or production");
const sha = z.string().regex(/^[0-9a-f]{7,40}$/, "--sha takes a commit SHA: 7 to 40 hexadecimal digits");

const deploymentId = z
  .string()
  .regex(/^[0-9a-f][0-9a-f-]{7,35}$/, "--id takes a deployment id, or its first 8 characters or more, as /status shows it");
const reason = z.string().trim().min(1, "--reason needs some text").max(500, "keep the reason under 500 characters");

/** `null` environment: the repository's default environment. */
const onEnvironment = { environment: environment.nullable() };
/** `null` id: the deployment that holds the environment. */
const onDeployment = { ...onEnvironment, id: deploymentId.nullable() };

export const commandSchema = z.discriminatedUnion("name", [
  /** `force`: break glass, deploy over unacknowledged drift (admins only). */
  z.strictObject({ name: z.literal("deploy"), ...onEnvironment, sha: sha.nullable(), dryRun: z.boolean(), force: z.boolean() }),
  z.strictObject({ name: z.literal("rollback"), ...onDeployment }),
  z.strictObject({ name: z.literal("promote"), ...onDeployment }),
  z.strictObject({ name: z.literal("abort"), ...onDeployment }),
  z.strictObject({ name: z.literal("approve"), ...onDeployment }),
  z.strictObject({ name: z.literal("lock"), environment, reason: reason.nullable() }),
  z.strictObject({ name: z.literal("unlock"), environment }),
  z.strictObject({ name: z.literal("ack-drift"), environment, reason: reason.nullable() }),
  z.strictObject({ name: z.literal("status") }),
  z.strictObject({ name: z.literal("help") }),
]);

export type Command = z.infer<typeof commandSchema>;
export type CommandName = Command["name"];
export type CommandOf<N extends CommandName> = Extract<Command, { name: N }>;

/** The right form of each command, shown in /help and in every reply to a malformed one. */
export const USAGE: Record<CommandName, string> = {
  deploy: "/deploy [environment] [--sha SHA] [--dry-run] [--force]",
  rollback: "/rollback [environment] [--id DEPLOYMENT]",
  promote: "/promote [environment] [--id DEPLOYMENT]",
  abort: "/abort [environment] [--id DEPLOYMENT]",
  approve: "/approve [environment] [--id DEPLOYMENT]",
  lock: '/lock environment [--reason "why"]',
  unlock: "/unlock environment",
  "ack-drift": '/ack-drift environment [--reason "why"]',
  status: "/status",
  help: "/help",
};

export const COMMAND_NAMES = Object.keys(USAGE) as CommandName[];

export function isCommandName(word: string): word is CommandName {
  return Object.hasOwn(USAGE, word);
}
