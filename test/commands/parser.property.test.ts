import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commandSchema, type Command } from "../../src/commands/command.ts";
import { parseComment } from "../../src/commands/parser.ts";

const environment = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,15}$/);
const sha = fc.stringMatching(/^[0-9a-f]{7,40}$/);
const id = fc.oneof(fc.uuid().map((uuid) => uuid.toLowerCase()), fc.stringMatching(/^[0-9a-f]{8,12}$/));
const reason = fc.stringMatching(/^[A-Za-z0-9#.,:!?' -]{0,40}$/).filter((text) => text.trim() !== "");

const commands: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ name: fc.constant("deploy" as const), environment: fc.option(environment), sha: fc.option(sha), dryRun: fc.boolean(), force: fc.boolean() }),
  fc.record({ name: fc.constantFrom("rollback" as const, "promote" as const, "abort" as const, "approve" as const), environment: fc.option(environment), id: fc.option(id) }),
  fc.record({ name: fc.constantFrom("lock" as const, "ack-drift" as const), environment, reason: fc.option(reason.map((text) => text.trim())) }),
  fc.record({ name: fc.constant("unlock" as const), environment }),
  fc.record({ name: fc.constantFrom("status" as const, "help" as const) }),
);

/** Parts of a well-formed command line, in the order a person might type them. */
function parts(command: Command): string[] {
  const words = [`/${command.name}`];
  if ("environment" in command && command.environment !== null) words.push(command.environment);
  if (command.name === "deploy" && command.sha !== null) words.push("--sha", command.sha);
  if (command.name === "deploy" && command.dryRun) words.push("--dry-run");
  if (command.name === "deploy" && command.force) words.push("--force");
  if ("id" in command && command.id !== null) words.push("--id", command.id);
  if ((command.name === "lock" || command.name === "ack-drift") && command.reason !== null) words.push("--reason", `"${command.reason}"`);
  return words;
}

/** Joins with random runs of blanks and randomises the case of everything but the reason's text. */
const typed = (command: Command) =>
  fc
    .tuple(
      fc.array(fc.constantFrom(" ", "  ", "\t", " \u00a0"), { minLength: parts(command).length, maxLength: parts(command).length }),
      fc.constantFrom(0, 1, 2, 3),
      fc.boolean(),
      fc.constantFrom("", "\n", "\nthanks!", "\r\n> quoted\n/deploy elsewhere"),
    )
    .map(([gaps, indent, shout, after]) => {
      const words = parts(command).map((word) => (shout && !word.startsWith('"') ? word.toUpperCase() : word));
      return " ".repeat(indent) + words.map((word, index) => (index === 0 ? word : gaps[index]! + word)).join("") + gaps[0] + after;
    });

const grammarWords = fc.constantFrom(
  "/deploy", "/rollback", "/promote", "/abort", "/approve", "/lock", "/unlock", "/status", "/help", "/DePloy", "/ack-drift",
  "production", "staging", "Prod", "prod_eu", "--sha", "--sha=", "--dry-run", "--reason", "--force", "--id", "3f2a9c1e", '"', "“", "”",
  "abc1234", "zzz", "=", ">", "```", "\n", "\t", "    ", "", "0123456789abcdef0123456789abcdef01234567",
);
const grammarSoup = fc.array(fc.oneof(grammarWords, fc.string({ maxLength: 4 })), { maxLength: 12 }).map((words) => words.join(" "));

describe("comment grammar, for any comment body", () => {
  it("never throws, and accepts only a command at the start of the comment that the schema admits", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), grammarSoup), (body) => {
        const result = parseComment(body);
        expect(["none", "command", "invalid"]).toContain(result.kind);
        if (result.kind !== "command") return;
        expect(commandSchema.parse(result.command)).toEqual(result.command);
        const firstLine = body.split(/\r\n|\r|\n/).find((line) => line.trim() !== "")!;
        expect(firstLine.toLowerCase()).toMatch(new RegExp(`^ {0,3}/${result.command.name}(\\s|$)`));
      }),
      { numRuns: 3000 },
    );
  });

  it("reads every well-formed command, whatever its case and spacing", () => {
    fc.assert(
      fc.property(commands.chain((command) => typed(command).map((body) => ({ command, body }))), ({ command, body }) => {
        expect(parseComment(body)).toEqual({ kind: "command", command });
      }),
      { numRuns: 2000 },
    );
  });

  it("never takes a quoted or code-formatted command", () => {
    const hidden = fc.tuple(fc.constantFrom("> ", ">", "```\n", "~~~\n", "    ", "\t", "`", "text "), commands.chain(typed));
    fc.assert(
      fc.property(hidden, ([prefix, body]) => {
        expect(parseComment(prefix + body.trimStart())).toEqual({ kind: "none" });
      }),
    );
  });

  it("refuses a well-formed command with an unknown option added", () => {
    const withJunk = fc
      .tuple(commands, fc.stringMatching(/^--[a-z]{1,8}$/))
      .filter(([, flag]) => !["--sha", "--dry-run", "--reason", "--force", "--id"].includes(flag));
    fc.assert(
      fc.property(withJunk, ([command, flag]) => {
        const body = parts(command).slice(0, command.name === "lock" || command.name === "ack-drift" ? 2 : undefined).concat(flag).join(" ");
        expect(parseComment(body)).toMatchObject({ kind: "invalid", name: command.name });
      }),
    );
  });
});
