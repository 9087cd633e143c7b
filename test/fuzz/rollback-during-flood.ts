// A maintainer's /rollback in the middle of a flood of refused commands, through the public path:
// Gantry as its own process (`node src/main.ts`) against the local world, a deployment live at its
// first canary step, then a burst of comments from a user without write access, faster than Gantry
// works through them, and the /rollback halfway. It measures the time from the /rollback's delivery
// to the production listener back on the old colour at 100%, and how many deliveries were still
// queued at that moment.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Octokit } from "@octokit/rest";
import { gantryYml } from "../e2e/world.ts";
import { openStore } from "../../src/store/open-store.ts";
import { productionWeightsReader, randomSha, untilServing } from "../support/deploy-world.ts";
import { TEST_APP_ID, TEST_INSTALLATION_ID } from "../support/probot.ts";
import { startAwsEmulator } from "../world/aws/index.ts";
import { startGithubEmulator } from "../world/github/emulator.ts";
import { post } from "./fuzz-run.ts";
import { GantryProcess, localWorldEnv } from "./gantry-process.ts";
import { commandText, commentPayload, type TargetRepo } from "./inputs.ts";
import type { Random } from "./random.ts";

const WEBHOOK_PATH = "/api/github/webhooks";
// The emulator accepts any well-formed app JWT; it does not hold the app's public key.
const FAKE_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln";
const MAINTAINER = "maintainer";
const FLOODER = "stranger";
/** GitHub's answer time while the flood runs (the maintainer's /rollback waits on it too: its role and config reads). */
const GITHUB_LATENCY_MS = 100;

export interface FloodSizes {
  /** Refused comments in the flood; the /rollback goes out once half of them are acknowledged. */
  comments: number;
  /** Deliveries in flight at once: the flood arrives as fast as Gantry acknowledges it. */
  concurrency: number;
}

export interface RollbackDuringFlood {
  /** From sending the /rollback's delivery to the listener reporting the old colour at 100%. */
  rollbackMs: number;
  /** Deliveries still pending in the inbox when the weights were verified. */
  queuedAtVerified: number;
  /** Flood comments acknowledged before the /rollback was sent. */
  floodBefore: number;
  /** What the flood's deliveries were answered. */
  answers: Record<string, number>;
  /** Where the time went, from the store: delivery stored → command begun → rollback decided → weights verified (ms from the store's first). */
  stages: { claimedMs: number; decidedMs: number; restoredMs: number };
}

/** Polls `probe` every 20 ms until it returns a value other than undefined. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The rollback's way through Gantry, read from its store once it has stopped. */
async function stagesOf(dataDir: string, deliveryId: string): Promise<RollbackDuringFlood["stages"]> {
  const store = await openStore({ dataDir });
  try {
    const delivery = await store.db.selectFrom("webhook_deliveries").select(["received_at", "payload"]).where("id", "=", deliveryId).executeTakeFirstOrThrow();
    const commentId = (JSON.parse(delivery.payload) as { comment: { id: number } }).comment.id;
    const command = await store.db.selectFrom("command_records").select("received_at").where("comment_id", "=", commentId).executeTakeFirstOrThrow();
    const rolledBack = await store.db.selectFrom("deployments").select("state").where("phase", "=", "rolled-back").executeTakeFirstOrThrow();
    const state = JSON.parse(rolledBack.state) as { decidedAt: number; timeToRestoreMs: number };
    const at = (time: number) => Number(time) - Number(delivery.received_at);
    return { claimedMs: at(command.received_at), decidedMs: at(state.decidedAt), restoredMs: at(state.decidedAt) + state.timeToRestoreMs };
  } finally {
    await store.close();
  }
}

export async function rollbackDuringFlood(random: Random, sizes: FloodSizes, say: (line: string) => void = () => {}): Promise<RollbackDuringFlood> {
  const aws = await startAwsEmulator({ healthCheckIntervalMs: 100 });
  const github = await startGithubEmulator({ appId: TEST_APP_ID });
  let gantry: GantryProcess | undefined;
  let sender: ChildProcess | undefined;
  try {
    const world = await aws.seedSampleWorld();
    await untilServing(world.listeners.production.url);
    const repo = github.seedRepo({ owner: "acme", name: "web", installationId: TEST_INSTALLATION_ID });
    const fullName = "acme/web";
    aws.sts.trust(world.roleArn, String(repo.id));
    // A first step that bakes far longer than the run: the deployment is live at 5% when the /rollback comes.
    const strategy = { type: "canary", steps: [{ weight: 5, bake: "30m" }, { weight: 100, bake: "1s" }] };
    github.seedCommit(fullName, { branch: repo.defaultBranch, files: { ".github/gantry.yml": gantryYml(aws, world, { strategy }) } });
    github.seedPermission(fullName, MAINTAINER, "write");
    const sha = randomSha();
    await aws.pushSampleImage(sha, { version: "v2" });
    github.seedPull(fullName, { number: 1, user: "author", head: { ref: "feature", sha } });
    const token = (await new Octokit({ baseUrl: github.url, auth: FAKE_JWT }).rest.apps.createInstallationAccessToken({ installation_id: TEST_INSTALLATION_ID })).data.token;
    await new Octokit({ baseUrl: github.url, auth: token }).rest.checks.create({ owner: "acme", repo: "web", name: "gantry/test", head_sha: sha, status: "completed", conclusion: "success" });
    const target: TargetRepo = { id: repo.id, owner: "acme", name: "web", ownerId: repo.owner.id, defaultBranch: repo.defaultBranch };
    // One client for every read of the weights: the emulators share this process, and a new SDK client per poll would starve them.
    const weights = productionWeightsReader(aws, world);

    const dataDir = mkdtempSync(join(tmpdir(), "gantry-flood-"));
    gantry = new GantryProcess(localWorldEnv({ githubUrl: github.url, awsEndpoint: aws.endpoint, awsRegion: aws.region, dataDir, accessKeyId: "AKIDFLOOD" }));
    const url = `${await gantry.url}${WEBHOOK_PATH}`;
    const running = gantry;
    let deliveries = 0;
    const comment = (login: string, association: string, body: string) => {
      const seeded = github.seedComment(fullName, 1, login, body);
      const payload = commentPayload(target, github.url, { id: seeded.id, body, issue: 1, login, userId: seeded.user.id, association });
      deliveries += 1;
      return post(url, "issue_comment", JSON.stringify(payload), `flood-${deliveries}`);
    };

    say("rollback during a flood: deploying to the first canary step");
    await comment(MAINTAINER, "MEMBER", "/deploy production");
    await until("the deployment to reach its first canary step", async () => ((await weights()).green === 5 ? true : undefined), 180_000);

    // Each refused comment comes from a stranger Gantry has not looked up yet, and GitHub takes 100 ms
    // to answer: the refusals cannot be worked through as fast as they arrive, so a queue stands in
    // front of the /rollback however fast this machine is.
    github.setLatency(GITHUB_LATENCY_MS);
    say(`rollback during a flood: ${sizes.comments} refused comments, the /rollback after half of them`);
    const floodFile = join(dataDir, "flood.jsonl");
    const lines: string[] = [];
    for (let index = 0; index < sizes.comments; index += 1) {
      const body = commandText(random, 200);
      const login = `${FLOODER}-${index}`;
      const seeded = github.seedComment(fullName, 1, login, body);
      const payload = commentPayload(target, github.url, { id: seeded.id, body, issue: 1, login, userId: seeded.user.id, association: "NONE" });
      lines.push(JSON.stringify({ id: `flood-refused-${index}`, body: JSON.stringify(payload) }));
    }
    writeFileSync(floodFile, `${lines.join("\n")}\n`);
    sender = spawn(process.execPath, ["test/fuzz/flood-sender.ts", url, floodFile], {
      env: { ...process.env, FLOOD_CONCURRENCY: String(sizes.concurrency) },
      stdio: ["pipe", "pipe", "inherit"],
    });
    const answers: Record<string, number> = {};
    let acknowledged = 0;
    const flooding = sender;
    const flood = new Promise<void>((resolve) => flooding.once("exit", () => resolve()));
    createInterface({ input: flooding.stdout! }).on("line", (line) => {
      const { answer } = JSON.parse(line) as { answer: string };
      answers[answer] = (answers[answer] ?? 0) + 1;
      acknowledged += 1;
    });
    await until("half the flood to be acknowledged", async () => (acknowledged >= sizes.comments / 2 ? true : undefined), 120_000);
    const floodBefore = acknowledged;
    const started = performance.now();
    const rollbackId = deliveries + 1;
    const rollback = comment(MAINTAINER, "MEMBER", "/rollback production");
    flooding.stdin!.end("go\n");
    await until("the old colour at 100%", async () => {
      const { blue, green } = await weights();
      return blue === 100 && green === 0 ? true : undefined;
    }, 120_000);
    const rollbackMs = performance.now() - started;
    const queuedAtVerified = (await running.health()).inbox.pending ?? 0;
    if ((await rollback) !== "202") throw new Error(`the /rollback was answered ${await rollback}`);
    await flood;
    await running.stop();
    return { rollbackMs, queuedAtVerified, floodBefore, answers, stages: await stagesOf(dataDir, `flood-${rollbackId}`) };
  } finally {
    sender?.kill();
    await gantry?.stop();
    await github.close();
    await aws.close();
  }
}
