import { z } from "zod";

/** The comment commands Gantry understands, as zod schemas: the types below come from them. */

/** The same rule `.github/gantry.yml` applies to environment names. */
const environment = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, "environment names are lower-case words such as staging or production");
const sha = z.string().regex(/^[0-9a-f]{7,40}$/, "--sha takes a commit SHA: 7 to 40 hexadecimal digits");

/** `null` environment: the repository's default environment. */
const onEnvironment = { environment: environment.nullable() };

export const commandSchema = z.discriminatedUnion("name", [
  z.strictObject({ name: z.literal("deploy"), ...onEnvironment, sha: sha.nullable(), dryRun: z.boolean() }),
  z.strictObject({ name: z.literal("rollback"), ...onEnvironment }),
  z.strictObject({ name: z.literal("promote"), ...onEnvironment }),
  z.strictObject({ name: z.literal("abort"), ...onEnvironment }),
  z.strictObject({ name: z.literal("approve"), ...onEnvironment }),
  z.strictObject({
    name: z.literal("lock"),
    environment,
    reason: z.string().trim().min(1, "--reason needs some text").max(500, "keep the reason under 500 characters").nullable(),
  }),
  z.strictObject({ name: z.literal("unlock"), environment }),
  z.strictObject({ name: z.literal("status") }),
  z.strictObject({ name: z.literal("help") }),
]);

export type Command = z.infer<typeof commandSchema>;
export type CommandName = Command["name"];
export type CommandOf<N extends CommandName> = Extract<Command, { name: N }>;

/** The right form of each command, shown in /help and in every reply to a malformed one. */
export const USAGE: Record<CommandName, string> = {
  deploy: "/deploy [environment] [--sha SHA] [--dry-run]",
  rollback: "/rollback [environment]",
  promote: "/promote [environment]",
  abort: "/abort [environment]",
  approve: "/approve [environment]",
  lock: '/lock environment [--reason "why"]',
  unlock: "/unlock environment",
  status: "/status",
  help: "/help",
};

export const COMMAND_NAMES = Object.keys(USAGE) as CommandName[];

export function isCommandName(word: string): word is CommandName {
  return Object.hasOwn(USAGE, word);
}
