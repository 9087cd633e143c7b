/** What an executor needs to start one shard attempt: the runner fetches everything else from Gantry. */
export interface ShardLaunch {
  shardId: string;
  attempt: number;
  /** Signed for this shard's attempt alone (src/ci/callback-token.ts). */
  token: string;
  /** Gantry's own base URL, as the runner reaches it. */
  callbackUrl: string;
}

export type ShardProcessStatus =
  | { state: "running" }
  | { state: "ended"; exitCode?: number; reason?: string }
  /** The executor has no record of it (a replica restarted, a task long gone). */
  | { state: "unknown" };

/**
 * Where shards run. Each runs the shard runner (src/ci/runner/shard-runner.ts) with the launch's
 * three values; the runner reports over HTTP, so the executor only starts, watches, stops and reads
 * logs. Which executor, and its AWS identity, are the operator's settings.
 */
export interface Executor {
  readonly name: "local" | "ecs";
  /** Shards it runs at once: on this replica (`perReplica`) or in total. */
  readonly slots: number;
  readonly perReplica: boolean;
  /** Starts the shard; returns the handle the other calls take. */
  start(launch: ShardLaunch): Promise<string>;
  status(handle: string): Promise<ShardProcessStatus>;
  cancel(handle: string): Promise<void>;
  /** The shard's output so far, at most `maxBytes` from its end. */
  logs(handle: string, maxBytes: number): Promise<string>;
  /** Deletes logs older than the retention; returns how many. */
  pruneLogs?(olderThan: number): Promise<number>;
  close(): Promise<void>;
}
