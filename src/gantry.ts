import { Probot, ProbotOctokit, type ApplicationFunction, type Logger } from "probot";
import { createGantryApp, mayAct, type GantryServices } from "./app/index.ts";
import { PermissionCache } from "./commands/permission-cache.ts";
import { commentUrgency } from "./commands/urgency.ts";
import { AuditLog } from "./audit/audit-log.ts";
import { createCiModule } from "./ci/ci-module.ts";
import type { CiService } from "./ci/ci-service.ts";
import type { Executor } from "./ci/executors/executor.ts";
import type { AppCredentials, ServerEnv } from "./config/server-env.ts";
import { awsDeployTargets } from "./deploy/aws-targets.ts";
import { Controller } from "./deploy/controller.ts";
import { DeploymentStore } from "./deploy/deployment-store.ts";
import { DriftWatcher } from "./deploy/drift-watcher.ts";
import { DeploymentRunner } from "./deploy/runner.ts";
import type { DeployTargetsFactory } from "./deploy/targets.ts";
import type { ControllerTiming } from "./deploy/tick-context.ts";
import { imageBuildLoop, type BuildLoopTiming, type BuildTargetsFactory } from "./images/build-loop.ts";
import { ImageBuildStore } from "./images/build-store.ts";
import type { BuildInput } from "./images/image-builder.ts";
import { ImageBuilds } from "./images/image-builds.ts";
import { BodyBudget } from "./inbox/body-budget.ts";
import { DeliveryStore } from "./inbox/delivery-store.ts";
import { HandledEvents } from "./inbox/handled-events.ts";
import { webhookIntake } from "./inbox/intake.ts";
import { intakePressure } from "./inbox/intake-pressure.ts";
import { receivedEvent } from "./inbox/invalid-payload.ts";
import { InboxPruner } from "./inbox/pruner.ts";
import { inboxWorker } from "./inbox/worker.ts";
import { CommandWrites, commandSender } from "./notify/command-writes.ts";
import { GitHubNotifier } from "./notify/github-notifier.ts";
import { ImageCheckRuns, recordImageChange } from "./notify/image-check-run.ts";
import { InstallationPacer } from "./notify/installation-pacer.ts";
import { DeploymentNotifications } from "./notify/notification-store.ts";
import { DeploymentOutbox } from "./notify/deployment-outbox.ts";
import { recordMissedChanges } from "./notify/outbox-catch-up.ts";
import { outboxDrain } from "./notify/outbox-drain.ts";
import { GitHubOutbox } from "./notify/outbox-store.ts";
import { settleWithin, type StopOutcome } from "./lifecycle/shutdown.ts";
import { slackSettings } from "./slack/settings.ts";
import { SlackOutbox, type TestFailureNotice } from "./slack/slack-outbox.ts";
import type { DeploymentObserver } from "./deploy/api.ts";
import { buildImagesAfterTests } from "./images/build-after-tests.ts";
import { postTestFailures } from "./slack/post-test-failures.ts";
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
  /** Where test shards run; default: GANTRY_CI_EXECUTOR's. Tests pass an ECS executor on the emulator. */
  ciExecutor?: Executor;
  /** How often running shards are looked at (default a second). */
  ciWatchMs?: number;
  /** Where images are built and found (with GANTRY_IMAGE_BUILDER set); tests point it at the emulator. */
  imageBuildTargets?: BuildTargetsFactory;
  imageBuildTiming?: Partial<BuildLoopTiming>;
}

export interface RunningGantry {
  url: string;
  store: Store;
  probot: Probot;
  controller: Controller;
  /**
   * Stops taking webhooks, finishes the deliveries, deployment steps and GitHub writes in hand,
   * releases this replica's leases and closes the store, within `timeoutMs` (default
   * GANTRY_SHUTDOWN_TIMEOUT_MS); names what the bound cut short.
   */
  stop(timeoutMs?: number): Promise<StopOutcome>;
  /** Test runs; `ci.onTestsPassed(listener)` / `ci.onTestsFailed(listener)` are told when a default-branch commit's gantry/test passes / fails. */
  ci: CiService;
  /**
   * Posts a failing `gantry/test` of a default-branch commit to Slack, once per commit, through the
   * outbox (never waits on Slack); does nothing while Slack is off.
   */
  postTestFailure(notice: TestFailureNotice): Promise<void>;
  /**
   * The image step, when GANTRY_IMAGE_BUILDER is set: `images.buildImageForCommit(…)` builds a
   * commit's image once (CI calls it when `gantry/test` passes on the default branch).
   */
  images: ImageBuilds | undefined;
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
  const pacer = new InstallationPacer(store);
  const octokitFor = async (installationId: number) => pacer.pace(await writer.auth(installationId), installationId);
  const notifications = new DeploymentNotifications(store);
  const notifier = new GitHubNotifier({ notifications, octokitFor });
  const outbox = new GitHubOutbox(store);
  let wakeDrain = () => {};
  const ci = await createCiModule({
    env,
    store,
    outbox,
    wakeDrain: () => wakeDrain(),
    log,
    privateKey: credentials.privateKey,
    readerFor: (installationId) => probot.auth(installationId),
    writerFor: octokitFor,
    ...(options.ciExecutor ? { executor: options.ciExecutor } : {}),
    ...(options.ciWatchMs === undefined ? {} : { watchMs: options.ciWatchMs }),
  });
  const slack = slackSettings(env);
  if (!slack) log.info("Slack is off: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN to post deployment messages and take approvals from Slack");
  // Bolt is loaded only when Slack is on: a Gantry without Slack does not hold it.
  const slackApp = slack ? await import("./slack/slack-app.ts") : null;
  const builds = new ImageBuildStore(store);
  const imageCheckRuns = new ImageCheckRuns({ builds, octokitFor });
  // GitHub writes leave through the outbox, drained apart from the controller and the inbox: a slow or refusing GitHub delays neither.
  const drain = outboxDrain({
    outbox,
    sendDeployment: (changes) => notifier.apply(changes),
    sendCommand: commandSender(octokitFor),
    sendCiRun: (runId) => ci.sendRun(runId),
    ...(slack && slackApp ? { sendSlack: slackApp.slackSender({ settings: slack, store, notifications, log }) } : {}),
    sendImage: (changes) => imageCheckRuns.apply(changes),
    pacer,
    log,
    instanceId: env.GANTRY_INSTANCE_ID,
  });
  wakeDrain = () => drain.wake();
  const githubObserver = new DeploymentOutbox(outbox, () => drain.wake());
  const slackOutbox = slack ? new SlackOutbox(outbox, store, () => drain.wake()) : null;
  // Each change is recorded for GitHub and, when it has a channel, for Slack: two inserts, no call out.
  const observer: DeploymentObserver = {
    async deploymentChanged(view) {
      await githubObserver.deploymentChanged(view);
      await slackOutbox?.deploymentChanged(view);
    },
  };
  const commandWrites = new CommandWrites(outbox, () => drain.wake());
  const deployments = new DeploymentStore(store);
  const { loop: imageLoop, images } = await imageStep(options, builds, recordImageChange(outbox), async (input) => {
    const octokit = await probot.auth(input.installationId);
    const { data } = await octokit.rest.repos.downloadTarballArchive({ owner: input.owner, repo: input.repo, ref: input.sha });
    return Buffer.from(data as ArrayBuffer);
  });
  const targetsFor =
    options.deployTargets ?? awsDeployTargets({ accountIds: env.GANTRY_AWS_ACCOUNT_IDS, ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}) });
  const runner = new DeploymentRunner({
    deployments,
    targetsFor,
    observer,
    log,
    instanceId: env.GANTRY_INSTANCE_ID,
    ...(options.timing ? { timing: options.timing } : {}),
    ...(images ? { images } : {}),
  });
  const controller = new Controller({ deployments, observer, wake: () => runner.wake(), targetsFor, ...(images ? { images } : {}) });
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
  const services: GantryServices = {
    chatOps: { store, controller, audit, links: notifications, writes: commandWrites, appId: credentials.appId, permissions },
    awsAccountIds: env.GANTRY_AWS_ACCOUNT_IDS,
    ci: { service: ci.service, store: ci.store, appId: credentials.appId },
  };
  await probot.load(handledEvents.watch(options.app ?? createGantryApp(services)));
  // A replacement app sees every delivery it subscribed to.
  const handlerMayAct = options.app ? () => true : mayAct(services);
  // A change saved just before a crash, and so never recorded, is recorded now.
  await recordMissedChanges({ store, deployments, observer }).catch((err: unknown) => log.error({ err }, "github-outbox: could not look for unrecorded changes"));
  runner.start();
  imageLoop?.start();
  if (images) buildImagesAfterTests({ ci: ci.service, images, readerFor: (installationId) => probot.auth(installationId), awsAccountIds: env.GANTRY_AWS_ACCOUNT_IDS, log });
  if (slackOutbox) {
    postTestFailures({
      ci: ci.service,
      ciStore: ci.store,
      post: (notice) => slackOutbox.postTestFailure(notice),
      readerFor: (installationId) => probot.auth(installationId),
      githubWebUrl: env.GITHUB_WEB_URL,
      awsAccountIds: env.GANTRY_AWS_ACCOUNT_IDS,
      log,
    });
  }
  driftWatcher.start();
  drain.start();

  const deliveries = new DeliveryStore(store);
  const budget = new BodyBudget({ maxBodies: env.GANTRY_INTAKE_MAX_BODIES, maxBytes: env.GANTRY_INTAKE_MAX_BUFFERED_MB * 1024 * 1024 });
  const worker = inboxWorker({
    deliveries,
    log,
    intakeBusy: intakePressure(budget),
    concurrency: env.GANTRY_INBOX_CONCURRENCY,
    maxAttempts: env.GANTRY_INBOX_MAX_ATTEMPTS,
    ...options.inbox,
    process: async (delivery) => {
      const event = receivedEvent(delivery);
      if (handlerMayAct(event.name, event.payload)) await probot.receive(event as ProbotEvent);
    },
  });
  if (options.processInbox !== false) worker.start();
  const pruner = new InboxPruner({
    deliveries,
    log,
    retention: { doneDays: env.GANTRY_INBOX_RETENTION_DAYS, deadDays: env.GANTRY_INBOX_DEAD_RETENTION_DAYS },
  });
  pruner.start();

  const slackRoutes =
    slack && slackApp
      ? slackApp.slackReceiver({
          settings: slack,
          store,
          controller,
          viewOf: (id) => deployments.view(id),
          audit,
          appOctokit: () => probot.auth(),
          octokitFor: (installationId) => probot.auth(installationId),
          appId: credentials.appId,
          log,
        })
      : {};
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
        sendJson(response, 200, { status: "ok", store: store.kind, inbox: await deliveries.countByStatus(), outbox: { pending: await outbox.pendingCount() }, shards: await ci.store.counts() });
      },
      [`POST ${env.WEBHOOK_PATH}`]: webhookIntake({
        secret: credentials.webhookSecret,
        deliveries,
        budget,
        log,
        handles: (event) => handledEvents.has(event),
        priorityOf: commentUrgency(permissions),
        onQueued: () => worker.wake(),
      }),
      ...ci.routes,
      ...slackRoutes,
    },
  });
  ci.setServerUrl(http.url);
  ci.service.start();
  log.info(`Gantry listening on ${http.url} (store: ${store.kind}, webhooks: ${env.WEBHOOK_PATH}, Slack: ${slack ? "on" : "off"})`);

  let stopping: Promise<StopOutcome> | undefined;
  return {
    url: http.url,
    store,
    probot,
    controller,
    ci: ci.service,
    images,
    postTestFailure: (notice) => slackOutbox?.postTestFailure(notice) ?? Promise.resolve(),
    stop(timeoutMs = env.GANTRY_SHUTDOWN_TIMEOUT_MS) {
      // Once: a test or a signal may ask twice.
      stopping ??= stopAll(timeoutMs);
      return stopping;
    },
  };

  async function stopAll(timeoutMs: number): Promise<StopOutcome> {
    // A GitHub write waiting for its pacing slot goes back to the outbox rather than hold the stop.
    pacer.stop();
    // All at once: the listener closes (requests in flight finish) while each loop ends its work in hand.
    const unfinished = await settleWithin(
      {
        "webhook server": http.close(),
        inbox: worker.stop(),
        "inbox pruning": pruner.stop(),
        "deployment steps": runner.stop(),
        "drift checks": driftWatcher.stop(),
        "test shards": ci.stop(),
        "image builds": imageLoop?.stop() ?? Promise.resolve(),
        "GitHub outbox": drain.stop(),
      },
      timeoutMs,
      log,
    );
    // A step still running at the bound loses its lease now, so another replica continues at once.
    if (unfinished.length > 0) await runner.letGo();
    await store.close();
    return { unfinished };
  }
}

/**
 * The image builder and its loop, when the operator chose one (GANTRY_IMAGE_BUILDER). The builders
 * and their AWS SDK clients are loaded only then: a Gantry that builds no images never holds them.
 */
async function imageStep(options: GantryOptions, builds: ImageBuildStore, record: ReturnType<typeof recordImageChange>, tarball: (input: BuildInput) => Promise<Buffer>) {
  const { env, log } = options;
  if (!env.GANTRY_IMAGE_BUILDER) return { loop: undefined, images: undefined };
  const { githubWebUrl, imageBuildTargets } = await import("./images/build-targets.ts");
  const targetsFor =
    options.imageBuildTargets ??
    imageBuildTargets({
      builder: env.GANTRY_IMAGE_BUILDER,
      region: env.GANTRY_IMAGE_BUILD_REGION ?? "",
      githubWebUrl: githubWebUrl(env.GITHUB_API_URL),
      tarball,
      ...(env.GANTRY_CODEBUILD_PROJECT ? { project: env.GANTRY_CODEBUILD_PROJECT } : {}),
      ...(env.GANTRY_IMAGE_BUILD_ROLE_ARN ? { roleArn: env.GANTRY_IMAGE_BUILD_ROLE_ARN } : {}),
      ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
      ...(env.GANTRY_ECR_KEEP_IMAGES ? { keepImages: env.GANTRY_ECR_KEEP_IMAGES } : {}),
    });
  const loop = imageBuildLoop({
    builds,
    targetsFor,
    record,
    log,
    instanceId: env.GANTRY_INSTANCE_ID,
    timing: { pollMs: env.GANTRY_IMAGE_BUILD_POLL_MS, ...options.imageBuildTiming },
  });
  return { loop, images: new ImageBuilds({ builds, record, wake: () => loop.wake() }) };
}
