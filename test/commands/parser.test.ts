import { describe, expect, it } from "vitest";
import { parseComment, type ParseResult } from "../../src/commands/parser.ts";

const deploy = (fields: object = {}): ParseResult => ({
  kind: "command",
  command: { name: "deploy", environment: null, sha: null, dryRun: false, force: false, ...fields },
});
const on = (name: "rollback" | "promote" | "abort" | "approve", environment: string | null = null, id: string | null = null): ParseResult => ({
  kind: "command",
  command: { name, environment, id },
});
const ackDrift = (environment: string, reason: string | null = null): ParseResult => ({
  kind: "command",
  command: { name: "ack-drift", environment, reason },
});
const ID = "3f2a9c1e-7b4d-4e0a-9c1f-2d3e4f5a6b7c";
const lock = (environment: string, reason: string | null = null): ParseResult => ({
  kind: "command",
  command: { name: "lock", environment, reason },
});
const invalid = (name: string, problem: string | RegExp) => ({
  kind: "invalid",
  name,
  problem: typeof problem === "string" ? problem : expect.stringMatching(problem),
  usage: expect.stringMatching(new RegExp(`^/${name}`)),
});
const NONE: ParseResult = { kind: "none" };
const SHA = "0123456789abcdef0123456789abcdef01234567";

const FORMS: [string, unknown][] = [
  // /deploy
  ["/deploy", deploy()],
  ["/deploy production", deploy({ environment: "production" })],
  ["/DEPLOY Production", deploy({ environment: "production" })],
  ["   /deploy    staging   ", deploy({ environment: "staging" })],
  ["/deploy\tstaging", deploy({ environment: "staging" })],
  ["\n\n/deploy staging\r\nplease, after lunch", deploy({ environment: "staging" })],
  [`/deploy production --sha ${SHA}`, deploy({ environment: "production", sha: SHA })],
  [`/deploy --sha ${SHA.toUpperCase()} production`, deploy({ environment: "production", sha: SHA })],
  ["/deploy --sha=abc1234", deploy({ sha: "abc1234" })],
  ["/deploy staging --dry-run", deploy({ environment: "staging", dryRun: true })],
  ["/deploy --DRY-RUN --sha abc1234 qa-eu", deploy({ environment: "qa-eu", sha: "abc1234", dryRun: true })],
  ["/deploy --sha", invalid("deploy", "--sha needs a commit SHA")],
  ["/deploy --sha --dry-run", invalid("deploy", "--sha needs a commit SHA")],
  ["/deploy --sha xyz", invalid("deploy", /^--sha takes a commit SHA/)],
  ["/deploy --sha abc12", invalid("deploy", /^--sha takes a commit SHA/)],
  [`/deploy --sha ${SHA}0`, invalid("deploy", /^--sha takes a commit SHA/)],
  ["/deploy --sha abc1234 --sha abc1235", invalid("deploy", "--sha is given twice")],
  ["/deploy production --force", deploy({ environment: "production", force: true })],
  ["/deploy --FORCE --sha abc1234", deploy({ sha: "abc1234", force: true })],
  ["/deploy --force --force", invalid("deploy", "--force is given twice")],
  ["/deploy --force=yes", invalid("deploy", "--force takes no value")],
  ["/deploy --dry-run=production", invalid("deploy", "--dry-run takes no value")],
  ['/deploy --force="staging"', invalid("deploy", "--force takes no value")],
  ["/deploy --id 3f2a9c1e", invalid("deploy", 'unknown option "--id"')],
  ["/deploy staging production", invalid("deploy", 'unexpected "production": name one environment at most')],
  ["/deploy prod_eu", invalid("deploy", /^environment names are lower-case words/)],
  ["/deploy -staging", invalid("deploy", /^environment names are lower-case words/)],
  ['/deploy "staging', invalid("deploy", "a quotation mark is not closed")],
  // rollback, promote, abort, approve
  ["/rollback", on("rollback")],
  ["/rollback production", on("rollback", "production")],
  ["/Promote  Staging", on("promote", "staging")],
  ["/abort production", on("abort", "production")],
  ["/approve", on("approve")],
  ["/approve production now", invalid("approve", 'unexpected "now": name one environment at most')],
  ["/rollback --sha abc1234", invalid("rollback", 'unknown option "--sha"')],
  // a deployment by id: the whole id or its first 8+ characters, before or after the environment
  [`/abort production --id ${ID}`, on("abort", "production", ID)],
  [`/rollback --id=${ID.toUpperCase()}`, on("rollback", null, ID)],
  ["/approve --id 3f2a9c1e staging", on("approve", "staging", "3f2a9c1e")],
  ["/promote --ID 3F2A9C1E", on("promote", null, "3f2a9c1e")],
  ["/abort --id", invalid("abort", "--id needs a deployment id, as /status shows it")],
  ["/abort --id 3f2a9c1", invalid("abort", /^--id takes a deployment id, or its first 8 characters/)],
  ["/abort --id 3f2a9c1e%", invalid("abort", /^--id takes a deployment id/)],
  ["/abort --id zz2a9c1e", invalid("abort", /^--id takes a deployment id/)],
  ["/abort --id 3f2a9c1e --id 3f2a9c1f", invalid("abort", "--id is given twice")],
  ["/rollback production staging --id 3f2a9c1e", invalid("rollback", 'unexpected "staging": name one environment at most')],
  ["/abort --dry-run", invalid("abort", 'unknown option "--dry-run"')],
  // lock, unlock
  ["/lock production", lock("production")],
  ['/lock production --reason "release freeze until Monday"', lock("production", "release freeze until Monday")],
  ["/lock production --reason “curly quotes”", lock("production", "curly quotes")],
  ["/lock production --reason database migration in flight", lock("production", "database migration in flight")],
  ['/lock --reason="incident #42" production', lock("production", "incident #42")],
  ["/LOCK Staging --REASON Keep It", lock("staging", "Keep It")],
  ["/lock", invalid("lock", "name the environment to lock")],
  ["/lock --reason freeze", invalid("lock", "name the environment to lock")],
  ["/lock production --reason", invalid("lock", /^--reason needs a reason/)],
  ['/lock production --reason ""', invalid("lock", "--reason needs some text")],
  ["/lock production release freeze", invalid("lock", 'unexpected "release": give a reason with --reason "…"')],
  ["/unlock production", { kind: "command", command: { name: "unlock", environment: "production" } }],
  ["/unlock", invalid("unlock", "name the environment to unlock")],
  ["/unlock production --reason done", invalid("unlock", 'unknown option "--reason"')],
  // ack-drift
  ["/ack-drift production", ackDrift("production")],
  ['/ACK-DRIFT Production --reason "scaled by hand during the incident"', ackDrift("production", "scaled by hand during the incident")],
  ["/ack-drift staging --reason rolled back by hand", ackDrift("staging", "rolled back by hand")],
  ["/ack-drift", invalid("ack-drift", "name the environment whose drift you acknowledge")],
  ["/ack-drift production it was me", invalid("ack-drift", 'unexpected "it": give a reason with --reason "…"')],
  ["/ack-drift production --force", invalid("ack-drift", 'unknown option "--force"')],
  ["/ack-drift production --id 3f2a9c1e", invalid("ack-drift", 'unknown option "--id"')],
  // status, help
  ["/status", { kind: "command", command: { name: "status" } }],
  ["  /STATUS  ", { kind: "command", command: { name: "status" } }],
  ["/status production", invalid("status", "/status takes no arguments")],
  ["/help", { kind: "command", command: { name: "help" } }],
  ["/help deploy", invalid("help", "/help takes no arguments")],
  // never commands
  ["", NONE],
  ["   \n\t\n", NONE],
  ["please /deploy production", NONE],
  ["> /deploy production", NONE],
  ["```\n/deploy production\n```", NONE],
  ["    /deploy production", NONE],
  ["\t/deploy production", NONE],
  ["`/deploy production`", NONE],
  ["LGTM\n/deploy production", NONE],
  ["/deployproduction", NONE],
  ["/deploy-now", NONE],
  ["/ack", NONE],
  ["/ack-drifts production", NONE],
  ["/ack--drift production", NONE],
  ["/ack-drift-production", NONE],
  ["/lgtm", NONE],
  ["/ deploy", NONE],
  ["//deploy", NONE],
];

describe("comment grammar", () => {
  it("covers at least 40 forms", () => {
    expect(FORMS.length).toBeGreaterThanOrEqual(40);
  });

  it.each(FORMS)("%j", (body, expected) => {
    expect(parseComment(body)).toEqual(expected);
  });
});
