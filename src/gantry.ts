import { Probot, ProbotOctokit, type ApplicationFunction, type Logger } from "probot";
import { createGantryApp } from "./app/index.ts";
import { PermissionCache } from "./commands/permission-cache.ts";
import { commentUrgency } from "./commands/urgency.ts";
import { AuditLog } from "./audit/audit-log.ts";
import type { AppCredentials, ServerEnv } from "./config/server-env.ts";
import { awsDeployTargets } from "./deploy/aws-targets.ts";
import { Controller } from "./deploy/controller.ts";
import { DeploymentStore } from "./deploy/deployment-store.ts";
import { DriftWatcher } from "./deploy/drift-watcher.ts";
import { DeploymentRunner } from "./deploy/runner.ts";
import type { DeployTargetsFactory } from "./deploy/targets.ts";
import type { ControllerTiming } from "./deploy/tick-context.ts";
import { BodyBudget } from "./inbox/body-budget.ts";
import { DeliveryStore } from "./inbox/delivery-store.ts";
import { HandledEvents } from "./inbox/handled-events.ts";
import { webhookIntake } from "./inbox/intake.ts";
import { receivedEvent } from "./inbox/invalid-payload.ts";
import { InboxPruner } from "./inbox/pruner.ts";
import { inboxWorker } from "./inbox/worker.ts";
import { CommandWrites, commandSender } from "./notify/command-writes.ts";
import { GitHubNotifier } from "./notify/github-notifier.ts";
import { InstallationPacer } from "./notify/installation-pacer.ts";
import { DeploymentNotifications } from "./notify/notification-store.ts";
import { DeploymentOutbox } from "./notify/deployment-outbox.ts";
import { recordMissedChanges } from "./notify/outbox-catch-up.ts";
import { outboxDrain } from "./notify/outbox-drain.ts";
import { GitHubOutbox } from "./notify/outbox-store.ts";
import { openStore, type Store } from "./store/open-store.ts";
import { sendJson, startHttpServer } from "./web/http-server.ts";

type ProbotEvent = Parameters<Probot["receive"]>[0];

export interface GantryOptions {
  env: ServerEnv;
  credentials: AppCredentials;
  log: Logger;
  /** Replaces Gantry's own app function (tests of the inbox use a recording one). */
  app?: ApplicationFunction;
  /** Tests pass an Octokit with retries and throttling off. */
  Octokit?: typeof ProbotOctokit;
  /** `false` runs only the intake: deliveries are stored but not processed (a replica that only ingests). */
  processInbox?: boolean;
  /** The AWS adapters per environment; tests point them at the emulator. */
  deployTargets?: DeployTargetsFactory;
  timing?: Partial<ControllerTiming>;
  /** How long a claimed delivery stays invisible to other replicas, and how often the inbox is polled. */
  inbox?: { leaseMs?: number; pollMs?: number };
  /** Time between two drift checks of every environment (default a minute). */
  driftCheckMs?: number;
}

export interface RunningGantry {
  url: string;
  store: Store;
  probot: Probot;
  controller: Controller;
  stop(): Promise<void>;
}

/** Composition root: store, Probot, controller, webhook inbox and HTTP server, started in that order. */
export async function startGantry(options: GantryOptions): Promise<RunningGantry> {
  const { env, credentials, log } = options;
  const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.GANTRY_DATA_DIR });
  const probot = new Probot({
    appId: credentials.appId,
    privateKey: credentials.privateKey,
    secret: credentials.webhookSecret,
    baseUrl: env.GITHUB_API_URL,
    log,
    ...(options.Octokit ? { Octokit: options.Octokit } : {}),
  });

  // The outbox paces its own writes per installation (GitHub's limits, Retry-After): its Octokit has
  // Probot's throttling and retries off, so there are not two pacers and a refused write comes back to the queue.
  const writer = new Probot({
    appId: credentials.appId,
    privateKey: credentials.privateKey,
    baseUrl: env.GITHUB_API_URL,
    log,
    Octokit: options.Octokit ?? ProbotOctokit.defaults((instanceOptions: object) => ({ ...instanceOptions, retry: { enabled: false }, throttle: { enabled: false } })),
  });
  const pacer = new InstallationPacer();
  const octokitFor = async (installationId: number) => pacer.pace(await writer.auth(installationId), installationId);
  const notifications = new DeploymentNotifications(store);
  const notifier = new GitHubNotifier({ notifications, octokitFor });
  const outbox = new GitHubOutbox(store);
  // GitHub writes leave through the outbox, drained apart from the controller and the inbox: a slow or refusing GitHub delays neither.
  const drain = outboxDrain({
    outbox,
    sendDeployment: (changes) => notifier.apply(changes),
    sendCommand: commandSender(octokitFor),
    pacer,
    log,
    instanceId: env.GANTRY_INSTANCE_ID,
  });
  const observer = new DeploymentOutbox(outbox, () => drain.wake());
  const commandWrites = new CommandWrites(outbox, () => drain.wake());
  const deployments = new DeploymentStore(store);
  const targetsFor =
    options.deployTargets ?? awsDeployTargets({ accountIds: env.GANTRY_AWS_ACCOUNT_IDS, ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}) });
  const runner = new DeploymentRunner({
    deployments,
    targetsFor,
    observer,
    log,
    instanceId: env.GANTRY_INSTANCE_ID,
    ...(options.timing ? { timing: options.timing } : {}),
  });
  const controller = new Controller({ deployments, observer, wake: () => runner.wake(), targetsFor });
  const audit = new AuditLog(store);
  const driftWatcher = new DriftWatcher({
    deployments,
    targetsFor,
    observer,
    audit,
    log,
    ...(options.driftCheckMs !== undefined ? { intervalMs: options.driftCheckMs } : {}),
  });
  const handledEvents = new HandledEvents();
  const permissions = new PermissionCache();
  await probot.load(
    handledEvents.watch(
      options.app ??
        createGantryApp({
          chatOps: { store, controller, audit, links: notifications, writes: commandWrites, appId: credentials.appId, permissions },
          awsAccountIds: env.GANTRY_AWS_ACCOUNT_IDS,
        }),
    ),
  );
  // A change saved just before a crash, and so never recorded, is recorded now.
  await recordMissedChanges({ store, deployments, observer }).catch((err: unknown) => log.error({ err }, "github-outbox: could not look for unrecorded changes"));
  runner.start();
  driftWatcher.start();
  drain.start();

  const deliveries = new DeliveryStore(store);
  const worker = inboxWorker({
    deliveries,
    log,
    concurrency: env.GANTRY_INBOX_CONCURRENCY,
    maxAttempts: env.GANTRY_INBOX_MAX_ATTEMPTS,
    ...options.inbox,
    process: (delivery) => probot.receive(receivedEvent(delivery) as ProbotEvent),
  });
  if (options.processInbox !== false) worker.start();
  const pruner = new InboxPruner({
    deliveries,
    log,
    retention: { doneDays: env.GANTRY_INBOX_RETENTION_DAYS, deadDays: env.GANTRY_INBOX_DEAD_RETENTION_DAYS },
  });
  pruner.start();

  const http = await startHttpServer({
    port: env.PORT,
    host: env.HOST,
    log,
    timeouts: {
      headersTimeoutMs: env.GANTRY_HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.GANTRY_HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: env.GANTRY_HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    routes: {
      "GET /healthz": async (_request, response) => {
        sendJson(response, 200, { status: "ok", store: store.kind, inbox: await deliveries.countByStatus(), outbox: { pending: await outbox.pendingCount() } });
      },
      [`POST ${env.WEBHOOK_PATH}`]: webhookIntake({
        secret: credentials.webhookSecret,
        deliveries,
        budget: new BodyBudget({ maxBodies: env.GANTRY_INTAKE_MAX_BODIES, maxBytes: env.GANTRY_INTAKE_MAX_BUFFERED_MB * 1024 * 1024 }),
        log,
        handles: (event) => handledEvents.has(event),
        priorityOf: commentUrgency(permissions),
        onQueued: () => worker.wake(),
      }),
    },
  });
  log.info(`Gantry listening on ${http.url} (store: ${store.kind}, webhooks: ${env.WEBHOOK_PATH})`);

  return {
    url: http.url,
    store,
    probot,
    controller,
    async stop() {
      await http.close();
      await worker.stop();
      await pruner.stop();
      await runner.stop();
      await driftWatcher.stop();
      await drain.stop();
      await store.close();
    },
  };
}
