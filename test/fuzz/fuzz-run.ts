// One fuzz run: the local world (AWS and GitHub emulators), Gantry as its own process, and the four
// kinds of hostile input from one seeded generator, with the process watched throughout.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { MAX_LOG_LINE_CHARS } from "../../src/log/bounded-log.ts";
import { gantryYml } from "../e2e/world.ts";
import { productionWeights, untilServing } from "../support/deploy-world.ts";
import { TEST_APP_ID, TEST_INSTALLATION_ID, TEST_WEBHOOK_SECRET } from "../support/probot.ts";
import { parsedResponse, postHead, RawConnection } from "../support/raw-http.ts";
import { startAwsEmulator } from "../world/aws/index.ts";
import { startGithubEmulator } from "../world/github/emulator.ts";
import { signBody } from "../world/github/webhook.ts";
import { GantryProcess, localWorldEnv, type LogFindings, type PhaseVital, type Vital } from "./gantry-process.ts";
import {
  BAD_CONFIG_KINDS,
  badConfig,
  commandText,
  commentPayload,
  malformedDelivery,
  pushPayload,
  UNAUTHORISED_USERS,
  type MalformedSizes,
  type TargetRepo,
} from "./inputs.ts";
import { Random } from "./random.ts";

export interface FuzzSizes {
  malformed: number;
  malformedSizes: MalformedSizes;
  /** Deliveries in flight at once. */
  malformedConcurrency: number;
  /** Connections of each broken kind (slow headers, a body never sent) held open at once; oversized bodies are a tenth of it. */
  brokenConnections: number;
  refusedComments: number;
  commentsPerSecond: number;
  /** How many of the users without write access comment: each gets its few replies before the refusal limit. */
  commenters: number;
  maxReasonChars: number;
  badConfigs: number;
  maxUnknownKeys: number;
  /** Time given to the process after the last input before its memory is read. */
  restMs: number;
}

/** `npm test`: a few hundred inputs. */
export const SHORT_SIZES: FuzzSizes = {
  malformed: 120,
  malformedSizes: { hugeStringChars: 60_000, nestingDepth: 1_000, megabyteBytes: 1_048_576 },
  malformedConcurrency: 8,
  brokenConnections: 20,
  refusedComments: 150,
  commentsPerSecond: 40,
  commenters: 1,
  maxReasonChars: 20_000,
  badConfigs: BAD_CONFIG_KINDS.length,
  maxUnknownKeys: 2_000,
  restMs: 500,
};

/** `npm run fuzz`: the sizes hostile input was first sent at. */
export const FULL_SIZES: FuzzSizes = {
  malformed: 1_500,
  malformedSizes: { hugeStringChars: 300_000, nestingDepth: 5_000, megabyteBytes: 1_048_576 },
  malformedConcurrency: 16,
  brokenConnections: 200,
  refusedComments: 2_000,
  commentsPerSecond: 40,
  commenters: UNAUTHORISED_USERS.length,
  maxReasonChars: 60_000,
  badConfigs: BAD_CONFIG_KINDS.length * 6,
  maxUnknownKeys: 5_000,
  restMs: 12_000,
};

/** Gantry must keep resident memory under this. */
export const MAX_RSS_MB = 400;
/** Past this without a `/healthz` answer in time, Gantry has stopped answering (single misses are reported, not failed). */
export const MAX_SILENCE_MS = 5_000;
/** GitHub's limit for a comment body. */
const MAX_COMMENT_CHARS = 65_536;
const WEBHOOK_PATH = "/api/github/webhooks";
/** Short HTTP time limits for the run, so broken connections end within seconds. */
const HEADERS_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 4_000;
/** A broken connection still open this long after it stopped sending was never dealt with. */
const CONNECTION_DEADLINE_MS = REQUEST_TIMEOUT_MS + 8_000;

export interface FuzzReport {
  seed: number;
  vital: Vital;
  phases: PhaseVital[];
  log: LogFindings;
  malformed: { sent: number; answers: Record<string, number> };
  brokenHttp: { connections: number; answers: Record<string, number>; leftOpen: number };
  comments: { sent: number; perSecondRefused: number; p99MsDeliveryToDone: number; botReplies: number; longestReplyChars: number; rejectedReplies: number };
  configs: { pushed: number; kinds: Record<string, number>; configChecks: number };
  inbox: Record<string, number>;
  /** Resident memory once Gantry listened, before any input: the baseline for `rssAfterMb`. */
  rssIdleMb: number;
  rssAfterMb: number;
  failures: string[];
}

/** Runs every kind of input at `sizes` from `seed`; `say` prints progress (the seed first). */
export async function runFuzz(seed: number, sizes: FuzzSizes, print: (line: string) => void = () => {}): Promise<FuzzReport> {
  const started = Date.now();
  const say = (line: string) => print(`${line} (${((Date.now() - started) / 1_000).toFixed(1)} s)`);
  say(`fuzz: seed ${seed} (replay with FUZZ_SEED=${seed})`);
  // One generator per kind, each from the seed: the broken-HTTP phase draws at times that depend on
  // the machine, and must not shift what the phases after it send.
  const randomFor = (kind: number) => new Random((seed ^ Math.imul(kind + 1, 0x9e3779b1)) >>> 0);
  const aws = await startAwsEmulator({ healthCheckIntervalMs: 100 });
  const github = await startGithubEmulator({ appId: TEST_APP_ID });
  let gantry: GantryProcess | undefined;
  try {
    const world = await aws.seedSampleWorld();
    await untilServing(world.listeners.production.url);
    const repo = github.seedRepo({ owner: "acme", name: "web", installationId: TEST_INSTALLATION_ID });
    const fullName = "acme/web";
    aws.sts.trust(world.roleArn, String(repo.id));
    const validConfig = gantryYml(aws, world);
    github.seedCommit(fullName, { branch: repo.defaultBranch, files: { ".github/gantry.yml": validConfig } });
    for (const user of UNAUTHORISED_USERS) if (user.permission !== "none") github.seedPermission(fullName, user.login, user.permission);
    github.seedPull(fullName, { number: 1, user: "author", head: { ref: "feature", sha: "a".repeat(40) } });
    const target: TargetRepo = { id: repo.id, owner: "acme", name: "web", ownerId: repo.owner.id, defaultBranch: repo.defaultBranch };
    const weightsBefore = await productionWeights(aws, world);

    const dataDir = mkdtempSync(join(tmpdir(), "gantry-fuzz-"));
    gantry = new GantryProcess({
      ...localWorldEnv({ githubUrl: github.url, awsEndpoint: aws.endpoint, awsRegion: aws.region, dataDir, accessKeyId: "AKIDFUZZ" }),
      // A delivery that fails is retried once, so the inbox settles within the run.
      GANTRY_INBOX_MAX_ATTEMPTS: "2",
      GANTRY_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      GANTRY_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      GANTRY_HTTP_KEEP_ALIVE_TIMEOUT_MS: "2000",
    });
    const url = await gantry.url;
    await gantry.startSampling();
    const running = gantry;
    const rssIdleMb = running.vital().rssMb;
    const settled = (timeoutMs: number) => inboxSettled(running, timeoutMs);

    say("fuzz: malformed but correctly signed webhooks");
    running.phase("malformed but correctly signed webhooks");
    const malformed = await sendMalformed(randomFor(0), `${url}${WEBHOOK_PATH}`, target, sizes);
    await settled(60_000);

    say("fuzz: broken HTTP");
    running.phase("broken HTTP");
    const brokenHttp = await breakHttp(randomFor(1), url, sizes.brokenConnections);

    say("fuzz: commands from users without write access");
    running.phase("commands from users without write access");
    const comments = await sendRefusedComments(randomFor(2), `${url}${WEBHOOK_PATH}`, github, target, sizes, running);
    const refusedP99Ms = deliveryToDoneP99Ms(dataDir, REFUSED_DELIVERY_PREFIX);

    say("fuzz: bad .github/gantry.yml files");
    running.phase("bad .github/gantry.yml files");
    const configs = await pushBadConfigs(randomFor(3), `${url}${WEBHOOK_PATH}`, github, target, sizes);
    github.seedCommit(fullName, { branch: repo.defaultBranch, files: { ".github/gantry.yml": validConfig } });
    running.phase("settling");
    const inbox = await settled(120_000);
    say("fuzz: inbox settled");
    // Memory after the run, once the garbage of the last deliveries had a moment to go.
    await sleep(sizes.restMs);
    const vital = running.vital();

    const botComments = [...repo.comments.values()].filter((comment) => comment.user.type === "Bot");
    const rejectedReplies = github.answered.filter((answer) => answer.method === "POST" && /\/issues\/\d+\/comments$/u.test(answer.path) && answer.status === 422).length;
    const weightsAfter = await productionWeights(aws, world);
    const report: FuzzReport = {
      seed,
      vital,
      phases: running.phases,
      log: running.log,
      malformed,
      brokenHttp,
      comments: {
        ...comments,
        p99MsDeliveryToDone: refusedP99Ms,
        botReplies: botComments.length,
        longestReplyChars: Math.max(0, ...botComments.map((comment) => comment.body.length)),
        rejectedReplies,
      },
      configs: { ...configs, configChecks: [...repo.checkRuns.values()].filter((run) => run.name === "gantry/config").length },
      inbox,
      rssIdleMb,
      rssAfterMb: vital.rssMb,
      failures: [],
    };
    const fail = (what: string) => report.failures.push(what);
    if (!vital.alive) fail(`the process exited (code ${vital.exitCode})`);
    if (vital.longestSilenceMs > MAX_SILENCE_MS) fail(`/healthz went ${vital.longestSilenceMs} ms without an answer within 1 s`);
    if (vital.maxRssMb >= MAX_RSS_MB) fail(`resident memory reached ${vital.maxRssMb.toFixed(0)} MB (bound ${MAX_RSS_MB} MB)`);
    if (running.log.unhandled.length > 0) fail(`unhandled errors in the log: ${running.log.unhandled.slice(0, 3).join(" | ")}`);
    if (running.log.longestLineChars > MAX_LOG_LINE_CHARS) fail(`a log line of ${running.log.longestLineChars} characters`);
    if (repo.deployments.size > 0) fail(`${repo.deployments.size} GitHub Deployment(s) created although nobody with write access asked`);
    if (JSON.stringify(weightsAfter) !== JSON.stringify(weightsBefore)) fail(`listener weights moved from ${JSON.stringify(weightsBefore)} to ${JSON.stringify(weightsAfter)}`);
    if (report.comments.longestReplyChars > MAX_COMMENT_CHARS) fail(`a reply of ${report.comments.longestReplyChars} characters (GitHub's limit: ${MAX_COMMENT_CHARS})`);
    if (rejectedReplies > 0) fail(`${rejectedReplies} replies refused by GitHub (422)`);
    if (brokenHttp.leftOpen > 0) fail(`${brokenHttp.leftOpen} broken connections still open ${CONNECTION_DEADLINE_MS} ms after they stopped sending`);
    return report;
  } finally {
    await gantry?.stop();
    await github.close();
    await aws.close();
  }
}

const REFUSED_DELIVERY_PREFIX = "fuzz-comment-";

/** The 99th percentile, from stored to done, of the deliveries whose ids start with `prefix`, read from Gantry's own store. */
function deliveryToDoneP99Ms(dataDir: string, prefix: string): number {
  const store = new DatabaseSync(join(dataDir, "gantry.sqlite"), { readOnly: true });
  try {
    const rows = store
      .prepare("select processed_at - received_at as ms from webhook_deliveries where id like ? and processed_at is not null order by ms")
      .all(`${prefix}%`) as Array<{ ms: number }>;
    return rows.length === 0 ? Number.NaN : rows[Math.min(rows.length - 1, Math.ceil(rows.length * 0.99) - 1)]!.ms;
  } finally {
    store.close();
  }
}

/** Waits until no delivery is pending (or `timeoutMs` passes); returns the inbox's counts. */
async function inboxSettled(gantry: GantryProcess, timeoutMs: number): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const inbox = await gantry.health().then((health) => health.inbox, () => undefined);
    if ((inbox && inbox.pending === 0) || Date.now() > deadline || !gantry.vital().alive) return inbox ?? {};
    await sleep(100);
  }
}

/** Sends one signed delivery; returns the status answered, or what went wrong. */
export async function post(url: string, event: string, body: string, deliveryId: string): Promise<string> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": deliveryId,
        "x-hub-signature-256": signBody(TEST_WEBHOOK_SECRET, body),
      },
      body,
    });
    await response.arrayBuffer();
    return String(response.status);
  } catch (error) {
    return `error: ${(error as { cause?: { code?: string } }).cause?.code ?? "fetch failed"}`;
  }
}

const tally = (answers: Record<string, number>, answer: string) => (answers[answer] = (answers[answer] ?? 0) + 1);

async function sendMalformed(random: Random, url: string, target: TargetRepo, sizes: FuzzSizes) {
  const answers: Record<string, number> = {};
  let next = 0;
  const sender = async () => {
    while (next < sizes.malformed) {
      // Drawn when taken, synchronously and in index order: the inputs depend on the seed only, and
      // only the deliveries in flight are held in memory.
      const id = `fuzz-malformed-${next}`;
      next += 1;
      const delivery = malformedDelivery(random, target, sizes.malformedSizes);
      tally(answers, await post(url, delivery.event, delivery.body, id));
    }
  };
  await Promise.all(Array.from({ length: sizes.malformedConcurrency }, sender));
  return { sent: sizes.malformed, answers };
}

/** Slow headers, bodies never sent, and oversized bodies; each connection must be answered or closed. */
async function breakHttp(random: Random, url: string, count: number) {
  const answers: Record<string, number> = {};
  let leftOpen = 0;
  const signedHead = (length: number) =>
    postHead(WEBHOOK_PATH, {
      "content-type": "application/json",
      "content-length": String(length),
      "x-github-event": "issue_comment",
      "x-github-delivery": `fuzz-http-${random.int(0, 1e9)}`,
      "x-hub-signature-256": signBody(TEST_WEBHOOK_SECRET, "{}"),
    });
  const outcome = (kind: string, received: string, error: string | undefined) => {
    const status = parsedResponse(received)?.status;
    tally(answers, `${kind}: ${status ?? (error ? `reset (${error})` : "closed")}`);
  };
  const waitEnd = async (connection: RawConnection) => {
    const ended = await Promise.race([connection.ended, sleep(CONNECTION_DEADLINE_MS).then(() => undefined)]);
    if (!ended) {
      leftOpen += 1;
      connection.destroy();
    }
    return ended;
  };
  const slowHeaders = async () => {
    const connection = await RawConnection.open(url);
    const head = signedHead(2);
    const started = Date.now();
    for (let i = 0; i < head.length - 2 && !connection.closed && Date.now() - started < CONNECTION_DEADLINE_MS; i += 1) {
      if (!(await connection.write(head[i]!))) break;
      await sleep(random.int(200, 400));
    }
    const ended = await waitEnd(connection);
    if (ended) outcome("slow headers", ended.received, ended.error);
  };
  const bodyNeverSent = async () => {
    const connection = await RawConnection.open(url);
    await connection.write(signedHead(random.int(10, 1_000_000)));
    const ended = await waitEnd(connection);
    if (ended) outcome("body never sent", ended.received, ended.error);
  };
  const oversized = async () => {
    const connection = await RawConnection.open(url);
    const size = 26 * 1024 * 1024;
    await connection.write(signedHead(size));
    const chunk = Buffer.alloc(64 * 1024, "a");
    for (let sent = 0; sent < size && !connection.closed && parsedResponse(connection.received) === undefined; sent += chunk.length) {
      if (!(await connection.write(chunk))) break;
    }
    if (parsedResponse(connection.received) !== undefined) connection.end();
    const ended = await waitEnd(connection);
    if (ended) outcome("oversized body", ended.received, ended.error);
  };
  const garbage = async () => {
    const connection = await RawConnection.open(url);
    await connection.write(`${random.text(random.int(1, 2_000))}\r\n\r\n`);
    const ended = await waitEnd(connection);
    if (ended) outcome("garbage", ended.received, ended.error);
  };
  // A connection Gantry would not take is an answer too (and the process checks say whether it still runs).
  const attempt = (kind: string, run: () => Promise<void>) => () =>
    run().catch((error: NodeJS.ErrnoException) => tally(answers, `${kind}: could not connect (${error.code ?? error.message})`));
  const oversizedCount = Math.max(2, Math.floor(count / 10));
  await Promise.all([
    ...Array.from({ length: count }, attempt("slow headers", slowHeaders)),
    ...Array.from({ length: count }, attempt("body never sent", bodyNeverSent)),
    ...Array.from({ length: oversizedCount }, attempt("oversized body", oversized)),
    ...Array.from({ length: oversizedCount }, attempt("garbage", garbage)),
  ]);
  return { connections: 2 * count + 2 * oversizedCount, answers, leftOpen };
}

/** Comments at a steady rate from users without write access; refused per second counts delivery to done. */
async function sendRefusedComments(
  random: Random,
  url: string,
  github: Awaited<ReturnType<typeof startGithubEmulator>>,
  target: TargetRepo,
  sizes: FuzzSizes,
  gantry: GantryProcess,
) {
  const fullName = `${target.owner}/${target.name}`;
  const first = Date.now();
  const sending: Promise<string>[] = [];
  for (let index = 0; index < sizes.refusedComments; index += 1) {
    const user = random.pick(UNAUTHORISED_USERS.slice(0, sizes.commenters));
    const body = commandText(random, sizes.maxReasonChars);
    const comment = github.seedComment(fullName, 1, user.login, body);
    const payload = commentPayload(target, github.url, { id: comment.id, body, issue: 1, login: user.login, userId: comment.user.id, association: user.association });
    const due = first + (index * 1_000) / sizes.commentsPerSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    sending.push(post(url, "issue_comment", JSON.stringify(payload), `${REFUSED_DELIVERY_PREFIX}${index}`));
  }
  await Promise.all(sending);
  await inboxSettled(gantry, 240_000);
  const seconds = (Date.now() - first) / 1_000;
  return { sent: sizes.refusedComments, perSecondRefused: sizes.refusedComments / seconds };
}

async function pushBadConfigs(random: Random, url: string, github: Awaited<ReturnType<typeof startGithubEmulator>>, target: TargetRepo, sizes: FuzzSizes) {
  const kinds: Record<string, number> = {};
  for (let index = 0; index < sizes.badConfigs; index += 1) {
    // Every kind once before any twice.
    const kind = BAD_CONFIG_KINDS[index % BAD_CONFIG_KINDS.length]!;
    tally(kinds, kind);
    const sha = github.seedCommit(`${target.owner}/${target.name}`, {
      branch: target.defaultBranch,
      files: { ".github/gantry.yml": badConfig(random, kind, sizes.maxUnknownKeys), "fuzz.txt": `${index}` },
    });
    await post(url, "push", JSON.stringify(pushPayload(target, sha)), `fuzz-config-${index}`);
  }
  return { pushed: sizes.badConfigs, kinds };
}
