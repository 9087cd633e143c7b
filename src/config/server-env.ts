import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const awsAccountId = z.string().regex(/^\d{12}$/, "must list 12-digit AWS account ids, separated by commas");
const positiveNumber = z.coerce.number().positive();
const commaList = z
  .string()
  .optional()
  .transform((value) => value?.split(",").map((item) => item.trim()).filter((item) => item !== "") ?? []);

/** Every environment variable Gantry reads; `.env.example` documents the same list. */
export const serverEnvSchema = z
  .object({
    APP_ID: z.string().regex(/^\d+$/, "must be the numeric App ID").optional(),
    PRIVATE_KEY: z.string().optional(),
    PRIVATE_KEY_PATH: z.string().optional(),
    WEBHOOK_SECRET: z.string().optional(),
    WEBHOOK_PATH: z.string().startsWith("/").default("/api/github/webhooks"),
    GITHUB_API_URL: z.url().default("https://api.github.com"),
    PORT: port.default(3000),
    HOST: z.string().min(1).default("localhost"),
    LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    GANTRY_DATA_DIR: z.string().min(1).default("./data"),
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL").optional(),
    GANTRY_INSTANCE_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
    GANTRY_INBOX_CONCURRENCY: positiveInt.default(4),
    GANTRY_INBOX_MAX_ATTEMPTS: positiveInt.default(8),
    /** The AWS SDK's own setting; only a local world or emulator needs it. */
    AWS_ENDPOINT_URL: z.url({ protocol: /^https?$/, error: "must be an http(s):// URL" }).optional(),
    /** When set, environments' roles may live only in these AWS accounts. */
    GANTRY_AWS_ACCOUNT_IDS: z
      .string()
      .optional()
      .transform((value) => value?.split(",").map((id) => id.trim()))
      .pipe(z.array(awsAccountId).min(1).optional()),
    GANTRY_INBOX_RETENTION_DAYS: positiveNumber.default(7),
    GANTRY_INBOX_DEAD_RETENTION_DAYS: positiveNumber.default(30),
    GANTRY_INTAKE_MAX_BODIES: positiveInt.default(32),
    GANTRY_INTAKE_MAX_BUFFERED_MB: positiveNumber.default(64),
    GANTRY_HTTP_HEADERS_TIMEOUT_MS: positiveInt.default(10_000),
    GANTRY_HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(20_000),
    GANTRY_HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(5_000),
    /** On SIGTERM or SIGINT, the longest wait for work in hand before leases are released and the process exits. */
    GANTRY_SHUTDOWN_TIMEOUT_MS: positiveInt.default(20_000),
    /** Gantry's URL as shard runners and people reach it (callbacks, log links); default: where it listens. */
    GANTRY_PUBLIC_URL: z.url({ protocol: /^https?$/, error: "must be an http(s):// URL" }).optional(),
    /** Signs the shard runners' callback tokens and log links; default: derived from the App's private key. */
    GANTRY_CI_CALLBACK_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    GANTRY_CI_EXECUTOR: z.enum(["local", "ecs"]).default("local"),
    /** Shards run at once by this replica (local) or in total (ecs). */
    GANTRY_CI_CONCURRENCY: positiveInt.default(2),
    GANTRY_CI_LOG_RETENTION_DAYS: positiveNumber.default(14),
    GANTRY_CI_ECS_CLUSTER: z.string().min(1).optional(),
    GANTRY_CI_ECS_TASK_DEFINITION: z.string().min(1).optional(),
    GANTRY_CI_ECS_CONTAINER: z.string().min(1).default("ci"),
    GANTRY_CI_ECS_SUBNETS: commaList,
    GANTRY_CI_ECS_SECURITY_GROUPS: commaList,
    /** The shard runner's command in the CI image. */
    GANTRY_CI_ECS_RUNNER_COMMAND: z.string().min(1).default("node /opt/gantry/src/ci/runner/shard-runner.ts"),
    /** The task definition's awslogs group and stream prefix, where shard logs are read from. */
    GANTRY_CI_ECS_LOG_GROUP: z.string().min(1).optional(),
    GANTRY_CI_ECS_LOG_STREAM_PREFIX: z.string().min(1).default("gantry-ci"),
    /** Slack is on when both are set: Bolt checks every request against the signing secret. */
    SLACK_SIGNING_SECRET: z.string().min(1).optional(),
    SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/, "must be a bot token (xoxb-...)").optional(),
    /** Slack's Web API; a local world's emulator in tests. */
    SLACK_API_URL: z.url({ protocol: /^https?$/ }).default("https://slack.com/api/"),
    /** The GitHub App's OAuth client (its settings page): `/gantry link` completes GitHub's user authorisation with it. */
    GITHUB_CLIENT_ID: z.string().min(1).optional(),
    GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
    /** GitHub's web host, where people authorise the app (GitHub Enterprise Server or an emulator). */
    GITHUB_WEB_URL: z.url({ protocol: /^https?$/ }).default("https://github.com"),
    /** An operator's YAML file of Slack user id → GitHub login, read at start-up; it overrides links people made with /gantry link. */
    GANTRY_SLACK_IDENTITIES_FILE: z.string().min(1).optional(),
    /** Who builds a commit's image when it has none: `codebuild` (AWS) or `local` (docker, podman or buildah here); unset, nobody. */
    GANTRY_IMAGE_BUILDER: z.enum(["codebuild", "local"]).optional(),
    /** The CodeBuild project every image is built by: its service role pushes to ECR. */
    GANTRY_CODEBUILD_PROJECT: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/, "must be a CodeBuild project name").optional(),
    /** Where builds run and images are pushed (CodeBuild and ECR). */
    GANTRY_IMAGE_BUILD_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as us-east-1").optional(),
    /** Assumed for build calls (StartBuild, BatchGetBuilds, ECR reads); unset, Gantry's own identity makes them. */
    GANTRY_IMAGE_BUILD_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, "must be an IAM role ARN").optional(),
    /** Put Gantry's lifecycle policy, keeping this many images besides those environments run or production ran, on ECR repositories that have none. */
    GANTRY_ECR_KEEP_IMAGES: positiveInt.optional(),
    /** How often a running build is looked at. */
    GANTRY_IMAGE_BUILD_POLL_MS: positiveInt.default(10_000),
  })
  .superRefine((env, ctx) => {
    if (env.GANTRY_HTTP_HEADERS_TIMEOUT_MS > env.GANTRY_HTTP_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({
        code: "custom",
        path: ["GANTRY_HTTP_HEADERS_TIMEOUT_MS"],
        message: "must not exceed GANTRY_HTTP_REQUEST_TIMEOUT_MS (the request timeout covers the headers too)",
      });
    }
    if (env.GANTRY_CI_EXECUTOR === "ecs") {
      for (const name of ["GANTRY_CI_ECS_CLUSTER", "GANTRY_CI_ECS_TASK_DEFINITION", "GANTRY_CI_ECS_LOG_GROUP"] as const) {
        if (!env[name]) ctx.addIssue({ code: "custom", path: [name], message: "is required when GANTRY_CI_EXECUTOR is ecs" });
      }
      // Tasks call back from their own network: the address Gantry listens on is rarely the one they reach.
      if (!env.GANTRY_PUBLIC_URL) ctx.addIssue({ code: "custom", path: ["GANTRY_PUBLIC_URL"], message: "is required when GANTRY_CI_EXECUTOR is ecs: the URL shard tasks reach Gantry at" });
    }
    if ((env.SLACK_SIGNING_SECRET === undefined) !== (env.SLACK_BOT_TOKEN === undefined)) {
      const missing = env.SLACK_SIGNING_SECRET === undefined ? "SLACK_SIGNING_SECRET" : "SLACK_BOT_TOKEN";
      ctx.addIssue({ code: "custom", path: [missing], message: "is required with the other Slack setting: set both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, or neither" });
    }
    if ((env.GITHUB_CLIENT_ID === undefined) !== (env.GITHUB_CLIENT_SECRET === undefined)) {
      const missing = env.GITHUB_CLIENT_ID === undefined ? "GITHUB_CLIENT_ID" : "GITHUB_CLIENT_SECRET";
      ctx.addIssue({ code: "custom", path: [missing], message: "is required with the other one: /gantry link needs the App's OAuth client id and secret" });
    }
    if (env.GITHUB_CLIENT_ID !== undefined && env.GANTRY_PUBLIC_URL === undefined) {
      ctx.addIssue({ code: "custom", path: ["GANTRY_PUBLIC_URL"], message: "is required with GITHUB_CLIENT_ID: GitHub sends people back to it after they authorise the app" });
    }
    if (env.GANTRY_IMAGE_BUILDER !== undefined && env.GANTRY_IMAGE_BUILD_REGION === undefined) {
      ctx.addIssue({ code: "custom", path: ["GANTRY_IMAGE_BUILD_REGION"], message: "is required when GANTRY_IMAGE_BUILDER is set: the region of the ECR repositories images are pushed to" });
    }
    if (env.GANTRY_IMAGE_BUILDER === "codebuild" && env.GANTRY_CODEBUILD_PROJECT === undefined) {
      ctx.addIssue({ code: "custom", path: ["GANTRY_CODEBUILD_PROJECT"], message: "is required when GANTRY_IMAGE_BUILDER is codebuild: the project that builds every image" });
    }
    if (env.APP_ID === undefined) return;
    if (!env.PRIVATE_KEY && !env.PRIVATE_KEY_PATH) {
      ctx.addIssue({
        code: "custom",
        path: ["PRIVATE_KEY"],
        message: "is required when APP_ID is set (or set PRIVATE_KEY_PATH to the .pem file)",
      });
    }
    if (!env.WEBHOOK_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["WEBHOOK_SECRET"],
        message: "is required when APP_ID is set; use the secret configured in the GitHub App settings",
      });
    }
  });

export type ServerEnv = z.infer<typeof serverEnvSchema>;

/** Credentials of a registered GitHub App; absent in setup mode. */
export interface AppCredentials {
  appId: number;
  privateKey: string;
  webhookSecret: string;
}

export class ServerEnvError extends Error {}

/** An empty value means unset, so `.env.example` copied as it is starts in setup mode. */
export function parseServerEnv(source: Record<string, string | undefined>): ServerEnv {
  const set = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const result = serverEnvSchema.safeParse(set);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? "environment");
  const given = source[name];
  const shown = given === undefined || /KEY|SECRET|TOKEN|DATABASE_URL/.test(name) ? "" : ` (got "${given}")`;
  throw new ServerEnvError(`${name} ${issue.message}${shown}`);
}

export function appCredentials(env: ServerEnv): AppCredentials | undefined {
  if (env.APP_ID === undefined) return undefined;
  const privateKey = env.PRIVATE_KEY
    ? decodePrivateKey(env.PRIVATE_KEY)
    : readPrivateKeyFile(env.PRIVATE_KEY_PATH!);
  return { appId: Number(env.APP_ID), privateKey, webhookSecret: env.WEBHOOK_SECRET! };
}

function readPrivateKeyFile(path: string): string {
  try {
    return decodePrivateKey(readFileSync(path, "utf8"));
  } catch (error) {
    if (error instanceof ServerEnvError) throw error;
    throw new ServerEnvError(`PRIVATE_KEY_PATH cannot be read: ${(error as Error).message}`);
  }
}

/** Accepts a PEM as is, with escaped newlines (one-line env files), or base64-encoded. */
function decodePrivateKey(value: string): string {
  const text = value.includes("-----BEGIN") ? value : Buffer.from(value, "base64").toString("utf8");
  const pem = text.replace(/\\n/g, "\n").trim();
  if (!/^-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----$/.test(pem)) {
    throw new ServerEnvError("PRIVATE_KEY is not a PEM private key (paste the .pem contents, or base64 of them)");
  }
  return `${pem}\n`;
}
