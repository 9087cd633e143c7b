// `npm run demo`: the local world, Gantry and a load generator as separate processes, and the story
// in demo/story.ts played on them with a timeline (check runs, image builds, Slack messages and
// clicks included); ends with users' failed requests per phase, each rollback's time to restore, and
// what the pushed release showed: its check runs, its image built once and deployed. `--keep` leaves
// everything up for your own comments (Ctrl-C stops it); `--report FILE` writes the summary as JSON;
// `--rate N` sets the load (requests a second).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { WorldControl } from "../test/world/control.ts";
import type { PullView } from "../test/world/sandbox.ts";
import type { PhaseLoad } from "./load.ts";
import { startGantry, startLoadGenerator, startWorld, type Stoppable } from "./processes.ts";
import { story, type StoryContext } from "./story.ts";

export interface DemoReport {
  ok: boolean;
  error: string | null;
  phases: Array<PhaseLoad & { healthy: boolean }>;
  rollbacks: Array<{ label: string; timeToRestoreSeconds: number | null }>;
  /** Each pushed release once deployed, as GitHub and AWS showed it. */
  releases: ReleaseRecord[];
  /** Every click in Slack: who clicked which button, and what Gantry answered them. */
  clicks: Array<{ by: string; button: string; status: number; answer: string }>;
  seconds: number;
  /** Every process the demo started, for a check that none is left. */
  pids: number[];
}

export interface ReleaseRecord {
  sha: string;
  /** The check runs completed on the commit. */
  checks: Array<{ name: string; conclusion: string | null }>;
  /** CodeBuild builds started for the commit. */
  imageBuilds: number;
  /** The image ECR holds for the commit, and the one its deployment ran (from the status comment). */
  builtDigest: string | null;
  deployedDigest: string | null;
  /** The status comment's approval row. */
  approval: string | null;
}

const { values } = parseArgs({ options: { keep: { type: "boolean", default: false }, report: { type: "string" }, rate: { type: "string", default: "100" } } });
const ROOT = join(import.meta.dirname, "..");
const started = Date.now();
const runDir = mkdtempSync(join(tmpdir(), "gantry-demo-"));
// With --keep, the world's state goes where `npm run world -- comment …` looks for it.
const stateFile = values.keep ? join(ROOT, "data/world/world.json") : join(runDir, "world.json");
if (values.keep) mkdirSync(join(ROOT, "data/world"), { recursive: true });

const clock = () => `+${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
const say = (text: string) => console.log(`${clock()}  ${text}`);
const REACTIONS: Record<string, string> = { eyes: "👀", rocket: "🚀", "-1": "👎", "+1": "👍", confused: "😕" };
const CONCLUSIONS: Record<string, string> = { success: "✅", failure: "❌", cancelled: "⏹️", skipped: "⏭️" };

const processes: Stoppable[] = [];
let stopping: Promise<void> | undefined;
/** Stops the load first (its report is read before), then Gantry (gracefully), then the world and its tasks. */
const stopAll = () => (stopping ??= (async () => {
  for (const child of processes.toReversed()) await child.stop();
})());
// A bug in the demo itself must not leave Gantry or the world behind.
process.on("uncaughtException", (error) => {
  console.error(error);
  void stopAll().then(() => process.exit(1));
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping the demo's processes`);
    void stopAll().then(() => process.exit(130));
  });
}

const report: DemoReport = { ok: false, error: null, phases: [], rollbacks: [], releases: [], clicks: [], seconds: 0, pids: [] };
const track = <T extends Stoppable>(child: T): T => {
  processes.push(child);
  if (child.pid !== undefined) report.pids.push(child.pid);
  return child;
};

console.log(`Gantry demo: logs in ${runDir}\n`);
say("starting the local world (AWS, GitHub and Slack emulators) …");
const world = track(await startWorld({ stateFile, logFile: join(runDir, "world.log"), healthCheckMs: 200 }));
const control = new WorldControl(world.state.control);
say(`world up: GitHub ${world.state.github}, AWS ${world.state.aws.endpoint}, production listener ${world.state.listeners.production}`);

const shortIds = new Map<string, string>();
const gantry = track(
  await startGantry({
    world: world.state,
    dataDir: join(runDir, "gantry-data"),
    logFile: join(runDir, "gantry.log"),
    onMoved: ({ deployment, from, to }) => {
      if (!shortIds.has(deployment)) shortIds.set(deployment, deployment.slice(0, 8));
      say(`   Gantry: deployment ${shortIds.get(deployment)} ${from} → ${to}`);
    },
  }),
);
await control.setWebhookUrl(`${gantry.url}/api/github/webhooks`);
say(`Gantry up at ${gantry.url} (embedded store), webhooks from the world's GitHub, clicks from its Slack; test shards on this machine, images on the world's CodeBuild`);
const load = track(startLoadGenerator(world.state.listeners.production, Number(values.rate)));
say(`load: ${values.rate} requests a second on the production listener, from its own process`);

// What a person would watch: the load balancer's weights, what Gantry writes on each pull request
// (comments, check runs), and its messages in Slack.
const followed = new Set<number>();
const seen = new Set<string>();
/** Says `line` the first time `key` is seen. */
const once = (key: string, line: string) => {
  if (seen.has(key)) return;
  seen.add(key);
  say(line);
};
let lastTraffic = "";
let watching = true;
/** One look at the weights and the followed pull requests, after any look already under way. */
let looks = Promise.resolve();
const look = () => (looks = looks.then(lookOnce));
async function lookOnce(): Promise<void> {
  try {
    const traffic = await control.traffic();
    const line = `blue ${traffic.blue}% · green ${traffic.green}%`;
    if (line !== lastTraffic) say(`   load balancer: ${line}`);
    lastTraffic = line;
    for (const number of followed) {
      const pull = await control.pull(number);
      if (pull) narrate(pull);
    }
    // A message is told when it is posted and when its buttons change; its updates in between are the status comment's.
    for (const message of await control.slackMessages()) {
      const buttons = message.buttons.map((button) => `[${button}]`).join(" ");
      once(`s${message.ts}:${buttons}`, `   Slack ${message.channel}: ${message.text}${buttons ? `   ${buttons}` : ""}`);
    }
  } catch {
    // The world is busy or stopping: the next look tells.
  }
}
const watch = (async () => {
  while (watching) {
    await look();
    await sleep(250);
  }
})();

function narrate(pull: PullView): void {
  const completed = pull.checks.filter((check) => check.status === "completed");
  // GitHub holds a summary (`gantry/test`) before the runs it sums up (`gantry/test (k/n)`): it is told after them.
  const place = (name: string, index: number) => Math.max(index, ...completed.flatMap((part, at) => (part.name.startsWith(`${name} (`) ? [at + 0.5] : [])));
  const inOrder = completed.map((check, index) => ({ check, at: place(check.name, index) })).toSorted((a, b) => a.at - b.at);
  for (const { check } of inOrder) {
    const conclusion = check.conclusion ?? "";
    once(`k${pull.number}:${check.name}:${conclusion}:${check.title}`, `   #${pull.number} check run ${check.name}: ${CONCLUSIONS[conclusion] ?? ""} ${conclusion}${check.title ? ` · ${check.title}` : ""}`);
  }
  for (const comment of pull.comments) {
    if (!comment.bot) {
      if (comment.reactions.length > 0) once(`r${comment.id}:${comment.reactions.join()}`, `   #${pull.number} @${comment.user}'s ${JSON.stringify(comment.body)}: ${comment.reactions.map((reaction) => REACTIONS[reaction] ?? reaction).join(" ")}`);
      continue;
    }
    if (!comment.body.includes("<!-- gantry:deployment")) {
      once(`c${comment.id}`, `   #${pull.number} Gantry replied: ${comment.body.split("\n")[0]!.slice(0, 160)}`);
      continue;
    }
    const headline = /^### (.*)$/m.exec(comment.body)?.[1];
    if (headline) once(`h${comment.id}:${headline}`, `   #${pull.number} status comment: ${headline.replaceAll("`", "").replaceAll("**", "")}`);
    // Each look of the judge adds a row; a step's verdict is told when it changes.
    for (const row of comment.body.split("\n").filter((line) => /^\| \d+ \| \d\d:\d\d:\d\d–/.test(line))) {
      const [step, , , verdict = "", canary, control, , why = ""] = row.slice(2, -2).split(" | ");
      const reason = verdict.includes("pass") ? "" : ` · ${why.split(";")[0]}`;
      once(`v${comment.id}:${step}:${verdict}`, `   #${pull.number} verdict, step ${step}: ${verdict} · canary ${canary} · control ${control}${reason}`);
    }
  }
}

const pulls = new Map<string, number>();
const context: StoryContext = {
  world: control,
  say: (text) => say(text),
  async openPullRequest(request) {
    const pull = await control.openPullRequest(request);
    pulls.set(request.version, pull.number);
    followed.add(pull.number);
    say(`pull request #${pull.number} "${request.title ?? request.version}": head ${pull.sha.slice(0, 7)}, image in ECR, gantry/test green`);
    return pull.number;
  },
  async pushRelease(request) {
    const pushed = await control.pushRelease(request);
    pulls.set(request.version, pushed.number);
    followed.add(pushed.number);
    say(`push to main: ${pushed.sha.slice(0, 7)} "${request.title ?? request.version}" with its tests and a Dockerfile, no image yet (webhook delivered: HTTP ${pushed.delivered}); pull request #${pushed.number} at it`);
    return pushed.number;
  },
  async untilChecks(pull, names, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const checks = (await control.pull(pull))?.checks ?? [];
      const done = names.map((name) => checks.findLast((check) => check.name === name && check.status === "completed"));
      if (done.every((check) => check !== undefined)) {
        const failed = done.filter((check) => check.conclusion !== "success");
        if (failed.length > 0) throw new Error(`#${pull}'s ${failed.map((check) => `${check.name} ended ${check.conclusion}`).join(", ")}`);
        // What was waited for is on the timeline before the next act.
        await look();
        return;
      }
      await sleep(200);
    }
    throw new Error(`#${pull}'s ${names.join(", ")} did not complete in ${timeoutMs / 1000} s`);
  },
  async approveInSlack(pull, approver = "writer") {
    const sha = (await control.pull(pull))!.sha;
    const deadline = Date.now() + 120_000;
    const waiting = async () => (await control.slackMessages()).some((message) => message.text.includes(sha.slice(0, 7)) && message.buttons.includes("Approve"));
    while (!(await waiting())) {
      if (Date.now() > deadline) throw new Error(`no Slack message about ${sha.slice(0, 7)} showed an Approve button in 120 s`);
      await sleep(200);
    }
    // The message with its buttons is on the timeline before the click.
    await look();
    // Told before it is sent: the deployment may move on before Gantry's answer is back.
    say(`@${approver} clicks Approve on the Slack message about ${sha.slice(0, 7)}`);
    const click = await control.clickInSlack(sha, "Approve", approver);
    report.clicks.push({ by: approver, button: "Approve", ...click });
    say(`   Slack, to @${approver} only (HTTP ${click.status}): ${click.answer}`);
    if (click.status !== 200 || !click.answer.startsWith("✅")) throw new Error(`the approval in Slack was not taken: HTTP ${click.status} ${click.answer}`);
  },
  async recordRelease(pull, statusComment) {
    const view = (await control.pull(pull))!;
    const image = await control.image(view.sha);
    const row = (name: string) => new RegExp(`^\\| ${name} \\| (.*) \\|$`, "m").exec(statusComment)?.[1] ?? null;
    const deployedDigest = /`(sha256:[0-9a-f]{64})`/.exec(row("image") ?? "")?.[1] ?? null;
    report.releases.push({
      sha: view.sha,
      checks: view.checks.filter((check) => check.status === "completed").map(({ name, conclusion }) => ({ name, conclusion })),
      imageBuilds: image.builds,
      builtDigest: image.digest,
      deployedDigest,
      approval: row("approval"),
    });
    const ran = deployedDigest !== null && deployedDigest === image.digest ? "that image, not built again" : `${deployedDigest ?? "no image"}, not the one built`;
    say(`image of ${view.sha.slice(0, 7)}: ${image.builds} CodeBuild build${image.builds === 1 ? "" : "s"} (${image.digest?.slice(0, 19) ?? "none"}…); its deployment ran ${ran}`);
  },
  pullOf(version) {
    const number = pulls.get(version);
    if (number === undefined) throw new Error(`no pull request was opened for ${version}`);
    return number;
  },
  async comment(pull, body) {
    const sent = await control.comment(pull, body);
    say(`@octocat comments on #${pull}: ${body}   (webhook delivered: HTTP ${sent.delivered})`);
  },
  async untilStatus(pull, headlines, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const view = await control.pull(pull);
      const status = view?.comments.find((comment) => comment.bot && comment.body.includes("<!-- gantry:deployment"));
      const headline = status && /^### (.*)$/m.exec(status.body)?.[1];
      if (status && headline && headlines.some((wanted) => headline.startsWith(wanted))) {
        await look();
        return status.body;
      }
      await sleep(200);
    }
    throw new Error(`#${pull}'s status comment did not reach ${headlines.join(" or ")} in ${timeoutMs / 1000} s`);
  },
  rollback(label, statusComment) {
    const seconds = /\| time to restore \| ([\d.]+) s \|/.exec(statusComment)?.[1];
    report.rollbacks.push({ label, timeToRestoreSeconds: seconds === undefined ? null : Number(seconds) });
  },
};

try {
  for (const phase of story) {
    console.log(`\n== ${phase.name}`);
    await load.phase(phase.name);
    await phase.run(context);
    // What the phase ended with is told before the next one starts.
    await look();
  }
} catch (error) {
  report.error = error instanceof Error ? error.message : String(error);
  console.error(`\nthe story stopped: ${report.error}`);
}
watching = false;
await watch;
const loads = await load.report();
report.phases = loads.phases.map((phaseLoad) => ({ ...phaseLoad, healthy: story.find((phase) => phase.name === phaseLoad.phase)?.healthy ?? true }));
const healthyFailures = report.phases.filter((phase) => phase.healthy).reduce((sum, phase) => sum + phase.failed, 0);
report.ok = report.error === null && healthyFailures === 0 && report.phases.length === story.length;

console.log("\n== Users' requests per phase (production listener)");
for (const phase of report.phases) {
  const causes = Object.entries(phase.failures).map(([cause, count]) => `${count} × ${cause}`).join(", ");
  const mark = phase.failed === 0 ? "✅" : phase.healthy ? "❌" : "⚠️ ";
  console.log(`${mark} ${phase.phase.padEnd(68)} ${String(phase.sent).padStart(6)} sent ${String(phase.failed).padStart(5)} failed${causes ? `  (${causes})` : ""}`);
}
console.log("\n== Rollbacks: time from the decision to the load balancer's weights verified back");
const restored = (seconds: number | null) => (seconds === null ? "not shown" : seconds < 0.1 ? "under 0.1 s" : `${seconds.toFixed(1)} s`);
for (const rollback of report.rollbacks) console.log(`   ${rollback.label.padEnd(30)} ${restored(rollback.timeToRestoreSeconds)}`);
console.log("\n== Pushed releases: check runs, image builds, approval");
for (const release of report.releases) {
  console.log(`   ${release.sha.slice(0, 7)}  ${release.checks.map((check) => `${check.name} ${CONCLUSIONS[check.conclusion ?? ""] ?? check.conclusion}`).join(" · ")}`);
  console.log(`            image built ${release.imageBuilds} time${release.imageBuilds === 1 ? "" : "s"}, deployed ${release.deployedDigest === release.builtDigest ? "as built" : "NOT as built"}; approval: ${release.approval ?? "none"}`);
}

if (values.keep && report.error === null) {
  // Users go on using the service, and the timeline goes on, for the pull requests you open.
  await track(startLoadGenerator(world.state.listeners.production, Number(values.rate))).phase("your commands");
  const next = Math.max(0, ...pulls.values()) + 1;
  for (let number = next; number < next + 20; number += 1) followed.add(number);
  watching = true;
  void (async () => {
    while (watching) {
      await look();
      await sleep(250);
    }
  })();
  console.log(`
== Still running (--keep). Gantry: ${gantry.url}   logs: ${runDir}
   Open a pull request:    npm run world -- pull --version v5      (add --error-rate 0.3 for a bad release)
                           npm run world -- push --version v5      (pushed with tests and a Dockerfile: tested, then built)
   Comment on it:          npm run world -- comment ${next} "/deploy production"      (or /status, /help, /rollback production)
   Approve it in Slack:    npm run world -- click ${next} Approve --as writer      (production waits for one approval)
   See what Gantry wrote:  npm run world -- show ${next}
   The timeline goes on below. Ctrl-C stops everything.
`);
  await new Promise(() => {});
}

await stopAll();
report.seconds = Math.round((Date.now() - started) / 1000);
console.log(`\n${report.ok ? "Demo finished" : "Demo FAILED"} in ${report.seconds} s; every process it started has stopped.`);
if (values.report) writeFileSync(values.report, JSON.stringify(report, null, 2));
if (report.ok) rmSync(runDir, { recursive: true, force: true });
process.exit(report.ok ? 0 : 1);
