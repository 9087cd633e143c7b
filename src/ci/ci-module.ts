import type { Logger, ProbotOctokit } from "probot";
import type { ServerEnv } from "../config/server-env.ts";
import type { GitHubOutbox } from "../notify/outbox-store.ts";
import type { Store } from "../store/open-store.ts";
import type { Routes } from "../web/http-server.ts";
import { CallbackTokens } from "./callback-token.ts";
import { ciCallbackRoutes } from "./callback-routes.ts";
import { syncRunChecks } from "./check-run-sync.ts";
import { CiService } from "./ci-service.ts";
import { CiStore } from "./ci-store.ts";
import type { Executor } from "./executors/executor.ts";
import { LocalExecutor } from "./executors/local-executor.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface CiModule {
  service: CiService;
  store: CiStore;
  routes: Routes;
  /** The outbox drain's sender for `ci-run` subjects. */
  sendRun(runId: string): Promise<void>;
  /** Once the server listens: where runners call back when GANTRY_PUBLIC_URL is unset. */
  setServerUrl(url: string): void;
  stop(): Promise<void>;
}

export interface CiModuleOptions {
  env: ServerEnv;
  store: Store;
  outbox: GitHubOutbox;
  wakeDrain: () => void;
  log: Logger;
  /** The App's private key: the callback secret is derived from it unless GANTRY_CI_CALLBACK_SECRET is set. */
  privateKey: string;
  /** Reads (the commit tarball) with Probot's Octokit. */
  readerFor: (installationId: number) => Promise<Octokit>;
  /** Writes (check runs) with the outbox's paced Octokit. */
  writerFor: (installationId: number) => Promise<Octokit>;
  /** Tests put an executor on the emulators here. */
  executor?: Executor;
  watchMs?: number;
}

/** The CI concern's composition: store, executor from the server's settings, service, routes and check-run sender. */
export async function createCiModule(options: CiModuleOptions): Promise<CiModule> {
  const { env, log } = options;
  const store = new CiStore(options.store);
  const tokens = new CallbackTokens(env.GANTRY_CI_CALLBACK_SECRET ?? options.privateKey);
  const executor = options.executor ?? (await executorFromEnv(env));
  let serverUrl = env.GANTRY_PUBLIC_URL ?? "";
  const publicUrl = () => (env.GANTRY_PUBLIC_URL ?? serverUrl).replace(/\/$/, "");
  const service = new CiService({
    store,
    executor,
    tokens,
    outbox: options.outbox,
    wakeDrain: options.wakeDrain,
    log,
    instanceId: env.GANTRY_INSTANCE_ID,
    callbackUrl: publicUrl,
    logRetentionMs: env.GANTRY_CI_LOG_RETENTION_DAYS * 86_400_000,
    ...(options.watchMs === undefined ? {} : { watchMs: options.watchMs }),
  });
  const routes = ciCallbackRoutes({
    service,
    tokens,
    log,
    async tarball(run) {
      const octokit = await options.readerFor(run.installationId);
      const { data } = await octokit.rest.repos.downloadTarballArchive({ owner: run.owner, repo: run.repo, ref: run.sha });
      return Buffer.from(data as ArrayBuffer);
    },
  });
  return {
    service,
    store,
    routes,
    async sendRun(runId) {
      const run = await store.run(runId);
      if (!run) return;
      const octokit = await options.writerFor(Number(run.installation_id));
      await syncRunChecks(octokit, store, runId, {
        logUrl: (shard) => `${publicUrl()}/ci/log?shard=${shard.id}&attempt=${shard.attempt}&sig=${tokens.logSignature(shard.id, shard.attempt)}`,
      });
    },
    setServerUrl(url) {
      serverUrl = url;
    },
    async stop() {
      await service.stop();
      await executor.close();
    },
  };
}

/** The `ecs` executor and its AWS SDK clients are loaded only where it is chosen: a Gantry running shards locally never holds them. */
async function executorFromEnv(env: ServerEnv): Promise<Executor> {
  if (env.GANTRY_CI_EXECUTOR === "local") return new LocalExecutor({ dataDir: env.GANTRY_DATA_DIR, concurrency: env.GANTRY_CI_CONCURRENCY });
  const [{ RETRY }, { ECSClient }, { CloudWatchLogsClient }, { EcsExecutor }] = await Promise.all([
    import("../aws/clients.ts"),
    import("@aws-sdk/client-ecs"),
    import("@aws-sdk/client-cloudwatch-logs"),
    import("./executors/ecs-executor.ts"),
  ]);
  const aws = { ...RETRY, ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}) };
  return new EcsExecutor(
    {
      cluster: env.GANTRY_CI_ECS_CLUSTER!,
      taskDefinition: env.GANTRY_CI_ECS_TASK_DEFINITION!,
      container: env.GANTRY_CI_ECS_CONTAINER,
      subnets: env.GANTRY_CI_ECS_SUBNETS,
      securityGroups: env.GANTRY_CI_ECS_SECURITY_GROUPS,
      runnerCommand: env.GANTRY_CI_ECS_RUNNER_COMMAND,
      logGroup: env.GANTRY_CI_ECS_LOG_GROUP!,
      logStreamPrefix: env.GANTRY_CI_ECS_LOG_STREAM_PREFIX,
      maxTasks: env.GANTRY_CI_CONCURRENCY,
    },
    { ecs: new ECSClient(aws), logs: new CloudWatchLogsClient(aws) },
  );
}
