import type { Logger } from "probot";

/** How a bounded shutdown went: the parts still running when the bound came (empty: a clean stop). */
export interface StopOutcome {
  unfinished: string[];
}

/**
 * Waits for every part to finish, for at most `timeoutMs`, and names those still running then. A part
 * that fails is logged and counts as finished: shutdown goes on either way.
 */
export async function settleWithin(parts: Record<string, Promise<unknown>>, timeoutMs: number, log: Logger): Promise<string[]> {
  const running = new Set(Object.keys(parts));
  const settled = Object.entries(parts).map(([name, part]) =>
    part.then(
      () => running.delete(name),
      (err: unknown) => {
        log.error({ err }, `shutdown: ${name} failed while stopping`);
        running.delete(name);
      },
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([Promise.all(settled), bound]);
  clearTimeout(timer);
  return [...running];
}

/**
 * Stops the server on the first SIGTERM or SIGINT, then exits: 0 after a clean stop, 1 when the bound
 * cut it short. Later signals are ignored: Ctrl-C under `npm start` reaches the process twice (from
 * the terminal and forwarded by npm), and the bound already limits how long stopping takes.
 */
export function stopOnSignals(options: { log: Logger; timeoutMs: number; stop: () => Promise<StopOutcome> }): void {
  const { log, timeoutMs } = options;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping (no new webhooks; finishing deliveries and deployment steps in hand; at most ${Math.round(timeoutMs / 1000)} s)`);
    void options
      .stop()
      .then(
        ({ unfinished }) => {
          if (unfinished.length === 0) {
            log.info("stopped cleanly");
            return 0;
          }
          log.error({ unfinished }, `stopped at the ${Math.round(timeoutMs / 1000)} s bound with work unfinished (${unfinished.join(", ")}); its leases were released for other replicas`);
          return 1;
        },
        (err: unknown) => {
          log.error({ err }, "could not stop cleanly");
          return 1;
        },
      )
      .then((code) => process.exit(code));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
