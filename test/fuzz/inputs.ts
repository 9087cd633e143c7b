// The four kinds of hostile input, drawn from a seeded generator: malformed but correctly signed
// webhooks, broken HTTP, commands from users without write access, and bad `.github/gantry.yml` files.
import { examplePayload } from "../support/payloads.ts";
import { TEST_INSTALLATION_ID } from "../support/probot.ts";
import type { Random } from "./random.ts";

/** The repository the fuzzed deliveries name, as the GitHub emulator holds it. */
export interface TargetRepo {
  id: number;
  owner: string;
  name: string;
  ownerId: number;
  defaultBranch: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const FUZZED_EVENTS = ["issue_comment", "push", "pull_request", "check_run", "check_suite", "installation", "deployment_status"] as const;

function repositoryOf(target: TargetRepo): JsonObject {
  return {
    id: target.id,
    name: target.name,
    full_name: `${target.owner}/${target.name}`,
    default_branch: target.defaultBranch,
    owner: { login: target.owner, id: target.ownerId, type: "Organization" },
  };
}

/** A real payload of `event` aimed at the fuzzed repository, before it is broken. */
function basePayload(random: Random, event: string, target: TargetRepo): JsonObject {
  // One of the event's first few examples (an event has at least one).
  let skip = random.int(0, 3);
  const payload =
    event === "issue_comment"
      ? examplePayload<JsonObject>(event, (candidate) => candidate.action === "created")
      : examplePayload<JsonObject>(event, () => skip-- <= 0 || skip < -10);
  if (random.chance(0.8) && typeof payload.repository === "object" && payload.repository !== null) {
    payload.repository = { ...(payload.repository as JsonObject), ...repositoryOf(target) };
  }
  if (event === "issue_comment" && random.chance(0.7)) {
    const comment = payload.comment as JsonObject;
    comment.body = random.pick(["/deploy production", "/rollback", "/status", "/lock production --reason x"]);
    (comment.user as JsonObject).login = "mallory";
    (payload.sender as JsonObject).login = "mallory";
  }
  return payload;
}

/** A path to a random node of `value` (object keys and array indexes), at most `depth` deep. */
function randomPath(random: Random, value: Json, depth = 6): (string | number)[] {
  const path: (string | number)[] = [];
  let node = value;
  while (path.length < depth && node !== null && typeof node === "object" && random.chance(0.75)) {
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, index) => index) : Object.keys(node);
    if (keys.length === 0) break;
    const key = random.pick(keys);
    path.push(key);
    node = (node as Record<string | number, Json>)[key]!;
  }
  return path;
}

function setAt(root: JsonObject, path: (string | number)[], value: Json | undefined): void {
  if (path.length === 0) return;
  let parent = root as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = value;
}

export type Mutation = "missing" | "wrong-type" | "huge-string" | "deep-nesting" | "megabyte";

/** How big the huge parts get: the short run keeps them smaller, so it stays well under a minute. */
export interface MalformedSizes {
  hugeStringChars: number;
  nestingDepth: number;
  megabyteBytes: number;
}

export const FULL_MALFORMED_SIZES: MalformedSizes = { hugeStringChars: 300_000, nestingDepth: 5_000, megabyteBytes: 1_048_576 };

const NESTED_MARKER = "__gantry_fuzz_nested__";

/** A malformed delivery: its event name and the exact body to sign and send. */
export function malformedDelivery(random: Random, target: TargetRepo, sizes: MalformedSizes): { event: string; body: string; mutations: Mutation[] } {
  const event = random.pick(FUZZED_EVENTS);
  const payload = basePayload(random, event, target);
  const mutations: Mutation[] = [];
  let nested: string | undefined;
  for (let i = random.int(1, 3); i > 0; i -= 1) {
    const mutation = random.pick<Mutation>(["missing", "missing", "wrong-type", "wrong-type", "huge-string", "deep-nesting", "megabyte"]);
    mutations.push(mutation);
    const path = randomPath(random, payload);
    switch (mutation) {
      case "missing":
        setAt(payload, path.length > 0 ? path : [random.pick(Object.keys(payload))], undefined);
        break;
      case "wrong-type":
        setAt(payload, path.length > 0 ? path : ["repository"], random.pick<Json>([42, -1.5, "42", null, true, [], {}, [1, "two"], { id: "1" }, "9".repeat(400)]));
        break;
      case "huge-string":
        setAt(payload, path.length > 0 ? path : ["comment"], random.text(random.int(sizes.hugeStringChars / 10, sizes.hugeStringChars)));
        break;
      case "deep-nesting": {
        const depth = random.int(sizes.nestingDepth / 5, sizes.nestingDepth);
        nested = random.chance(0.5) ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
        setAt(payload, path.length > 0 ? path : ["comment"], NESTED_MARKER);
        break;
      }
      case "megabyte":
        payload[`padding_${i}`] = random.chance(0.5)
          ? random.text(sizes.megabyteBytes, "abcdefghijklmnopqrstuvwxyz")
          : Array.from({ length: Math.floor(sizes.megabyteBytes / 60) }, (_, index) => ({ id: index, login: "mallory", body: "/deploy production" }));
        break;
    }
  }
  let body = JSON.stringify(payload);
  if (nested !== undefined) body = body.replace(`"${NESTED_MARKER}"`, nested);
  return { event, body, mutations };
}

// --- commands -------------------------------------------------------------------------------------

const COMMAND_NAMES = ["deploy", "rollback", "promote", "abort", "approve", "lock", "unlock", "ack-drift"] as const;

/** A command line as people (and attackers) type them: the grammar's words and flags, bent. */
export function commandText(random: Random, maxReasonChars: number): string {
  const name = random.chance(0.9) ? random.pick(COMMAND_NAMES) : random.pick(["status", "help", "deplo", "rollback!!", "", "DEPLOY"]);
  const words: string[] = [`/${random.chance(0.2) ? name.toUpperCase() : name}`];
  if (random.chance(0.8)) words.push(random.pick(["production", "staging", "Production", "prod", random.text(random.int(1, 40), "abcdefghij-_.")]));
  if (random.chance(0.3)) words.push("--sha", random.pick(["a".repeat(40), random.text(random.int(1, 45), "0123456789abcdefg"), "HEAD~1", "--force"]));
  if (random.chance(0.2)) words.push("--id", random.text(random.int(0, 40), "0123456789abcdef-"));
  if (random.chance(0.3)) {
    const reason = random.text(random.int(0, random.chance(0.1) ? maxReasonChars : 200));
    words.push("--reason", random.chance(0.7) ? `"${reason}"` : reason);
  }
  if (random.chance(0.15)) words.push(random.pick(["--dry-run", "--force", "--everything", "-f", "--"]));
  const spaced = words.join(random.pick([" ", "  ", "\t", " \u00a0 "]));
  const shapes = [
    () => spaced,
    () => `${random.pick(["", "  ", "\n\n"])}${spaced}\n${random.text(random.int(0, 500))}`,
    () => `> ${spaced}`,
    () => `\`\`\`\n${spaced}\n\`\`\``,
    () => `${spaced} @octocat @acme/sre`,
  ];
  return random.pick(shapes)();
}

/** Users the fuzz comments as: none of them may deploy. `association`: what GitHub says of them in a comment. */
export const UNAUTHORISED_USERS = [
  { login: "mallory", permission: "read", association: "COLLABORATOR" },
  { login: "trudy", permission: "triage", association: "COLLABORATOR" },
  { login: "stranger", permission: "none", association: "NONE" },
] as const;

/** An `issue_comment.created` payload for a comment the emulator holds. */
export function commentPayload(
  target: TargetRepo,
  githubUrl: string,
  comment: { id: number; body: string; issue: number; login: string; userId: number; association: string },
): JsonObject {
  const payload = examplePayload<JsonObject>("issue_comment", (candidate) => candidate.action === "created");
  const fullName = `${target.owner}/${target.name}`;
  const user = { ...(payload.sender as JsonObject), login: comment.login, id: comment.userId, type: "User" };
  payload.comment = {
    ...(payload.comment as JsonObject),
    id: comment.id,
    body: comment.body,
    author_association: comment.association,
    user,
    html_url: `${githubUrl}/${fullName}/pull/${comment.issue}#issuecomment-${comment.id}`,
  };
  payload.sender = user;
  payload.issue = { ...(payload.issue as JsonObject), number: comment.issue, pull_request: { url: `${githubUrl}/repos/${fullName}/pulls/${comment.issue}`, merged_at: null } };
  payload.repository = { ...(payload.repository as JsonObject), ...repositoryOf(target) };
  return payload;
}

// --- bad configs -----------------------------------------------------------------------------------

export type BadConfigKind =
  | "alias-bomb"
  | "scalar-top"
  | "list-top"
  | "extends-number"
  | "unknown-keys"
  | "deep-nesting"
  | "wrong-types"
  | "oversize"
  | "syntax-error"
  | "tabs"
  | "aws-endpoint";

export const BAD_CONFIG_KINDS: readonly BadConfigKind[] = [
  "alias-bomb",
  "scalar-top",
  "list-top",
  "extends-number",
  "unknown-keys",
  "deep-nesting",
  "wrong-types",
  "oversize",
  "syntax-error",
  "tabs",
  "aws-endpoint",
];

/** A bad `.github/gantry.yml`; `maxUnknownKeys` bounds the largest block of unknown keys. */
export function badConfig(random: Random, kind: BadConfigKind, maxUnknownKeys: number): string {
  switch (kind) {
    case "alias-bomb": {
      const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      const levels = random.int(6, 10);
      for (let level = 1; level < levels; level += 1) {
        const previous = String.fromCharCode(96 + level);
        const name = String.fromCharCode(97 + level);
        lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(",")}]`);
      }
      return `${lines.join("\n")}\nenvironments: {}\n`;
    }
    case "scalar-top":
      return random.pick(["42\n", "just some text\n", "null\n", '"environments"\n']);
    case "list-top":
      return random.pick(["- production\n- staging\n", "[1, 2, 3]\n"]);
    case "extends-number":
      return `_extends: ${random.pick(["42", "true", "[a, b]", "{ x: 1 }"])}\nenvironments: {}\n`;
    case "unknown-keys": {
      const count = random.int(Math.min(100, maxUnknownKeys), maxUnknownKeys);
      return `environments: {}\n${Array.from({ length: count }, (_, index) => `unknown_${index}_${random.text(6, "abcdef")}: ${index}`).join("\n")}\n`;
    }
    case "deep-nesting": {
      const depth = random.int(200, 2_000);
      return random.chance(0.5) ? `environments: ${"[".repeat(depth)}${"]".repeat(depth)}\n` : `environments: ${"{a: ".repeat(depth)}1${"}".repeat(depth)}\n`;
    }
    case "wrong-types":
      return random.pick([
        "environments: 42\n",
        "environments:\n  production: [1, 2]\n",
        "ci: { shards: many, timeout: forever }\nenvironments: {}\n",
        "defaultEnvironment: { a: 1 }\nenvironments: {}\n",
      ]);
    case "oversize":
      return `# ${"x".repeat(100)}\n`.repeat(random.int(2_600, 3_200)) + "environments: {}\n";
    case "syntax-error":
      return random.pick(["environments: [unclosed\n", "environments:\n  production: {\n", 'a: "unterminated\n', "key: value\n  bad indent: 1\n- list\n"]);
    case "tabs":
      return "environments:\n\tproduction: {}\n";
    case "aws-endpoint":
      return "environments:\n  production:\n    aws: { region: us-east-1, endpoint: http://169.254.169.254, roleArn: arn:aws:iam::123456789012:role/x }\n";
  }
}

/** A `push` payload for a commit of the fuzzed repository's default branch. */
export function pushPayload(target: TargetRepo, sha: string): JsonObject {
  const payload = examplePayload<JsonObject>("push", () => true);
  payload.ref = `refs/heads/${target.defaultBranch}`;
  payload.after = sha;
  payload.deleted = false;
  payload.repository = { ...(payload.repository as JsonObject), ...repositoryOf(target) };
  payload.installation = { id: TEST_INSTALLATION_ID };
  return payload;
}
