// `npm run demo`: the local world, Gantry and a load generator as separate processes, and the story
// in demo/story.ts played on them with a timeline; ends with users' failed requests per phase and
// each rollback's time to restore. `--keep` leaves everything up for your own comments (Ctrl-C stops
// it); `--report FILE` writes the summary as JSON; `--rate N` sets the load (requests a second).
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
  seconds: number;
  /** Every process the demo started, for a check that none is left. */
  pids: number[];
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

const report: DemoReport = { ok: false, error: null, phases: [], rollbacks: [], seconds: 0, pids: [] };
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
say(`Gantry up at ${gantry.url} (embedded store), webhooks from the world's GitHub`);
const load = track(startLoadGenerator(world.state.listeners.production, Number(values.rate)));
say(`load: ${values.rate} requests a second on the production listener, from its own process`);

// What a person would watch: the load balancer's weights, and what Gantry writes on each pull request.
const followed = new Set<number>();
const seen = new Set<string>();
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
  const once = (key: string, line: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    say(line);
  };
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
      if (status && headline && headlines.some((wanted) => headline.startsWith(wanted))) return status.body;
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
   Comment on it:          npm run world -- comment ${next} "/deploy production"      (or /status, /help, /rollback production)
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
