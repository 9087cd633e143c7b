// The demo's users: steady HTTP load on the production listener, from a process of its own so the
// load and what it measures do not share an event loop with the world or Gantry. Started by
// demo/main.ts with an IPC channel: {phase} starts counting a new phase, {stop} ends and sends back
// the failures of each phase. Each phase is acknowledged when it starts.
import { startLoad, type LoadStats } from "../test/support/load.ts";

export type LoadMessage = { phase: string } | { stop: true };
/** Sent back once a phase's load has started, so the demo acts only after its requests count there. */
export interface PhaseStarted {
  started: string;
}
export interface PhaseLoad {
  phase: string;
  sent: number;
  failed: number;
  failures: Record<string, number>;
  /** Requests lost to this process's own starved event loop, not counted as failed. */
  starved: number;
}
export interface LoadReport {
  phases: PhaseLoad[];
}

const url = process.argv[2];
const perSecond = Number(process.argv[3] ?? 100);
if (!url || !process.send) throw new Error("usage: forked by demo/main.ts with the listener's URL and requests per second");

const ended: Promise<PhaseLoad>[] = [];
let current: { phase: string; load: ReturnType<typeof startLoad> } | undefined;
const summary = (phase: string, stats: LoadStats): PhaseLoad => ({ phase, sent: stats.sent, failed: stats.failed, failures: stats.failures, starved: stats.starved });
// The next phase's load starts before the last one's requests in flight are done: no gap in traffic.
const endCurrent = () => {
  if (!current) return;
  const { phase, load } = current;
  ended.push(load.stop().then((stats) => summary(phase, stats)));
  current = undefined;
};

process.on("message", (message: LoadMessage) => {
  if ("phase" in message) {
    endCurrent();
    current = { phase: message.phase, load: startLoad(url, perSecond) };
    process.send!({ started: message.phase } satisfies PhaseStarted);
    return;
  }
  endCurrent();
  void Promise.all(ended).then((phases) => {
    const report: LoadReport = { phases };
    process.send!(report, () => process.exit(0));
  });
});
// The demo went away without stopping us: go too.
process.on("disconnect", () => process.exit(0));
