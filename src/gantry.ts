import { Probot, type ProbotOctokit, type ApplicationFunction, type Logger } from "probot";
import type { AppCredentials, ServerEnv } from "./config/server-env.ts";
import { DeliveryStore } from "./inbox/delivery-store.ts";
import { webhookIntake } from "./inbox/intake.ts";
import { inboxWorker } from "./inbox/worker.ts";
import { openStore, type Store } from "./store/open-store.ts";
import { sendJson, startHttpServer } from "./web/http-server.ts";

type ProbotEvent = Parameters<Probot["receive"]>[0];

export interface GantryOptions {
  env: ServerEnv;
  credentials: AppCredentials;
  app: ApplicationFunction;
  log: Logger;
  /** Tests pass an Octokit with retries and throttling off. */
  Octokit?: typeof ProbotOctokit;
  /** `false` runs only the intake: deliveries are stored but not processed (a replica that only ingests). */
  processInbox?: boolean;
}

export interface RunningGantry {
  url: string;
  store: Store;
  probot: Probot;
  stop(): Promise<void>;
}

/** Composition root: store, Probot, webhook inbox and HTTP server, started in that order. */
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
  await probot.load(options.app);

  const deliveries = new DeliveryStore(store);
  const worker = inboxWorker({
    deliveries,
    log,
    concurrency: env.GANTRY_INBOX_CONCURRENCY,
    maxAttempts: env.GANTRY_INBOX_MAX_ATTEMPTS,
    process: (delivery) =>
      probot.receive({ id: delivery.id, name: delivery.event, payload: JSON.parse(delivery.payload) } as ProbotEvent),
  });
  if (options.processInbox !== false) worker.start();

  const http = await startHttpServer({
    port: env.PORT,
    host: env.HOST,
    log,
    routes: {
      "GET /healthz": async (_request, response) => {
        sendJson(response, 200, { status: "ok", store: store.kind, inbox: await deliveries.countByStatus() });
      },
      [`POST ${env.WEBHOOK_PATH}`]: webhookIntake({
        secret: credentials.webhookSecret,
        deliveries,
        onQueued: () => worker.wake(),
      }),
    },
  });
  log.info(`Gantry listening on ${http.url} (store: ${store.kind}, webhooks: ${env.WEBHOOK_PATH})`);

  return {
    url: http.url,
    store,
    probot,
    async stop() {
      await http.close();
      await worker.stop();
      await store.close();
    },
  };
}
