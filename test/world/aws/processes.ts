// Child processes that stand in for containers. Each runs in its own process group so that
// stopping it also stops whatever it spawned; all are killed when the emulator closes or the
// parent process exits.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface ContainerProcess {
  readonly pid: number | undefined;
  /** Resolves with the exit code (signal deaths map to 128 + signal number, like Docker). */
  readonly exited: Promise<number>;
  stop(graceMs?: number): Promise<number>;
}

const live = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

process.on("exit", () => {
  for (const child of live) killGroup(child, "SIGKILL");
});

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2 };

export function startProcess(
  command: string,
  args: string[],
  opts: { env: Record<string, string>; cwd?: string; keepStdinOpen?: boolean; onOutput?: (line: string) => void },
): ContainerProcess {
  // stdin stays a pipe for the sample service: it exits when the pipe closes, so even a
  // SIGKILLed emulator leaves no orphans behind.
  const child = spawn(command, args, {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    detached: true,
    stdio: [opts.keepStdinOpen ? "pipe" : "ignore", opts.onOutput ? "pipe" : "ignore", opts.onOutput ? "pipe" : "ignore"],
  });
  if (opts.onOutput) {
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on("line", opts.onOutput);
    }
  }
  live.add(child);
  const exited = new Promise<number>((resolve) => {
    child.once("error", () => {
      live.delete(child);
      resolve(127);
    });
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve(code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1));
    });
  });
  return {
    pid: child.pid,
    exited,
    async stop(graceMs = 2000) {
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Stops every container process still alive. */
export async function stopAll(processes: Iterable<ContainerProcess>): Promise<void> {
  await Promise.all([...processes].map((p) => p.stop(500)));
}
