import { generateKeyPairSync } from "node:crypto";
import { Probot, ProbotOctokit, type ApplicationFunction } from "probot";
import { pino } from "pino";

/** One RSA key per test process: Probot signs its app JWT with it, nock never checks it. */
export const TEST_PRIVATE_KEY = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
  type: "pkcs1",
  format: "pem",
}) as string;

export const TEST_APP_ID = 1;
export const TEST_INSTALLATION_ID = 2;
export const TEST_WEBHOOK_SECRET = "test-webhook-secret";

/**
 * Retries and throttling off, so a test sees each request once and never waits. The function form
 * matters: the object form of `defaults` leaves Probot's throttling on.
 */
export const TestOctokit = ProbotOctokit.defaults((instanceOptions: object) => ({
  ...instanceOptions,
  retry: { enabled: false },
  throttle: { enabled: false },
}));

export const silentLog = pino({ level: "silent" });

export function testProbot(app?: ApplicationFunction): Probot {
  const probot = new Probot({
    appId: TEST_APP_ID,
    privateKey: TEST_PRIVATE_KEY,
    secret: TEST_WEBHOOK_SECRET,
    Octokit: TestOctokit,
    log: silentLog,
  });
  if (app) void probot.load(app);
  return probot;
}
