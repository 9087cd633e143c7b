// `npm run world -- <command>`: acts on the running world (found through its state file) as a
// person on GitHub would.
import { parseArgs } from "node:util";
import { WorldControl } from "./control.ts";
import { readWorldState, worldStateFile } from "./world-state.ts";

const USAGE = `usage: npm run world -- <command>
  pull [--version v2] [--error-rate 0.3] [--latency-ms 200] [--title "..."]
        open a pull request whose image answers as that version (a share of 500s, slower)
  push [--version v2] [--error-rate 0.3] [--latency-ms 200] [--title "..."]
        the same, pushed to the default branch with the test project and a Dockerfile and no image:
        Gantry runs the tests in shards and builds the image
  comment <pull request> "<comment>" [--as octocat]
        comment on a pull request; the world signs and delivers the webhook to Gantry
  click <pull request> <button> [--as writer]
        click a button (Approve, Reject, Roll back) on the Slack message about the pull request's head
  show <pull request>
        what Gantry wrote on the pull request: its comments, reactions, check runs and deployments
  (no command: start the world)`;

export async function runWorldCommand(command: string, args: string[]): Promise<number> {
  if (command === "help" || command === "--help") {
    console.log(USAGE);
    return 0;
  }
  const state = readWorldState();
  if (!state) {
    console.error(`No running world (no ${worldStateFile()}): start one with \`npm run world\` or \`npm run demo -- --keep\`.`);
    return 1;
  }
  if (!isAlive(state.pid)) {
    console.error(`The world that wrote ${worldStateFile()} (process ${state.pid}) has stopped: start one with \`npm run world\` or \`npm run demo -- --keep\`.`);
    return 1;
  }
  const world = new WorldControl(state.control);
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { version: { type: "string" }, "error-rate": { type: "string" }, "latency-ms": { type: "string" }, title: { type: "string" }, as: { type: "string" } },
    });
    const release = {
      version: values.version ?? `v${Date.now() % 1000}`,
      ...(values["error-rate"] ? { errorRate: Number(values["error-rate"]) } : {}),
      ...(values["latency-ms"] ? { latencyMs: Number(values["latency-ms"]) } : {}),
      ...(values.title ? { title: values.title } : {}),
    };
    if (command === "pull") {
      const pull = await world.openPullRequest(release);
      console.log(`pull request #${pull.number}: head ${pull.sha.slice(0, 7)}, image ${pull.digest}, gantry/test green`);
      return 0;
    }
    if (command === "push") {
      const pushed = await world.pushRelease(release);
      console.log(`pushed ${pushed.sha.slice(0, 7)} to the default branch (delivered to ${state.webhookUrl}: HTTP ${pushed.delivered}); pull request #${pushed.number} at it`);
      return pushed.delivered < 300 ? 0 : 1;
    }
    if (command === "comment" && positionals.length === 2) {
      const sent = await world.comment(Number(positionals[0]), positionals[1]!, values.as);
      console.log(`comment ${sent.commentId} delivered to ${state.webhookUrl}: HTTP ${sent.delivered}`);
      return sent.delivered < 300 ? 0 : 1;
    }
    if (command === "click" && positionals.length === 2) {
      const pull = await world.pull(Number(positionals[0]));
      if (!pull) throw new Error(`no pull request #${positionals[0]}`);
      const click = await world.clickInSlack(pull.sha, positionals[1]!, values.as);
      console.log(`HTTP ${click.status}; Gantry answered: ${click.answer}`);
      return click.status < 300 ? 0 : 1;
    }
    if (command === "show" && positionals.length === 1) {
      const pull = await world.pull(Number(positionals[0]));
      if (!pull) throw new Error(`no pull request #${positionals[0]}`);
      for (const comment of pull.comments) console.log(`--- @${comment.user} ${comment.reactions.join(" ")}\n${comment.body}\n`);
      for (const check of pull.checks) console.log(`check run ${check.name}: ${check.conclusion ?? check.status}${check.title ? ` · ${check.title}` : ""}`);
      for (const deployment of pull.deployments) console.log(`deployment of ${deployment.sha.slice(0, 7)} to ${deployment.environment}: ${deployment.states.join(" → ")}`);
      return 0;
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
  console.error(USAGE);
  return 1;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
