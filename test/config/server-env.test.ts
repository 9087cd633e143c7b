import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { appCredentials, parseServerEnv } from "../../src/config/server-env.ts";
import { TEST_PRIVATE_KEY } from "../support/probot.ts";

const live = { APP_ID: "42", PRIVATE_KEY: TEST_PRIVATE_KEY, WEBHOOK_SECRET: "s3cret" };

describe("server environment", () => {
  it("starts in setup mode with sensible defaults when nothing is set", () => {
    const env = parseServerEnv({});
    expect(env).toMatchObject({ PORT: 3000, HOST: "localhost", WEBHOOK_PATH: "/api/github/webhooks", GANTRY_DATA_DIR: "./data" });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(appCredentials(env)).toBeUndefined();
    // Every HTTP time bound answers or closes a stalled connection well inside 30 s.
    expect(env).toMatchObject({ GANTRY_HTTP_HEADERS_TIMEOUT_MS: 10_000, GANTRY_HTTP_REQUEST_TIMEOUT_MS: 20_000, GANTRY_HTTP_KEEP_ALIVE_TIMEOUT_MS: 5_000 });
    expect(env).toMatchObject({ GANTRY_INBOX_RETENTION_DAYS: 7, GANTRY_INBOX_DEAD_RETENTION_DAYS: 30, GANTRY_INTAKE_MAX_BODIES: 32, GANTRY_INTAKE_MAX_BUFFERED_MB: 64 });
  });

  it("starts from .env.example copied as it is: an empty value means unset", () => {
    const env = parseServerEnv(parseEnv(readFileSync(".env.example", "utf8")));
    expect(env.GANTRY_INSTANCE_ID).toMatch(/.+-\d+$/);
    for (const name of ["APP_ID", "DATABASE_URL", "AWS_ENDPOINT_URL", "GANTRY_AWS_ACCOUNT_IDS"] as const) expect(env[name]).toBeUndefined();
    expect(appCredentials(env)).toBeUndefined();
  });

  it("reads the AWS accounts roles may live in, and the server's AWS endpoint", () => {
    const env = parseServerEnv({ GANTRY_AWS_ACCOUNT_IDS: "111111111111, 222222222222", AWS_ENDPOINT_URL: "http://127.0.0.1:4566" });
    expect(env.GANTRY_AWS_ACCOUNT_IDS).toEqual(["111111111111", "222222222222"]);
    expect(env.AWS_ENDPOINT_URL).toBe("http://127.0.0.1:4566");
  });

  it.each([
    [{ GANTRY_AWS_ACCOUNT_IDS: "1234,prod" }, /^GANTRY_AWS_ACCOUNT_IDS must list 12-digit AWS account ids, separated by commas/],
    [{ AWS_ENDPOINT_URL: "localhost:4566" }, /^AWS_ENDPOINT_URL /],
    [{ PORT: "abc" }, /^PORT .* \(got "abc"\)$/],
    [{ PORT: "70000" }, /^PORT /],
    [{ APP_ID: "my-app" }, /^APP_ID must be the numeric App ID/],
    [{ APP_ID: "42" }, /^PRIVATE_KEY is required when APP_ID is set/],
    [{ APP_ID: "42", PRIVATE_KEY: TEST_PRIVATE_KEY }, /^WEBHOOK_SECRET is required/],
    [{ DATABASE_URL: "mysql://db/gantry" }, /^DATABASE_URL must be a postgres:\/\/ URL$/],
    [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL /],
    [{ GANTRY_HTTP_HEADERS_TIMEOUT_MS: "30000" }, /^GANTRY_HTTP_HEADERS_TIMEOUT_MS must not exceed GANTRY_HTTP_REQUEST_TIMEOUT_MS/],
    [{ GANTRY_INBOX_RETENTION_DAYS: "0" }, /^GANTRY_INBOX_RETENTION_DAYS .* \(got "0"\)$/],
    [{ GANTRY_INTAKE_MAX_BODIES: "many" }, /^GANTRY_INTAKE_MAX_BODIES /],
  ])("names the variable at fault for %o", (source, message) => {
    expect(() => parseServerEnv(source)).toThrow(message);
  });

  it("never echoes a secret's value in its message", () => {
    expect(() => parseServerEnv({ ...live, DATABASE_URL: "mysql://user:hunter2@db" })).toThrow(/^(?!.*hunter2)/);
  });

  it.each([
    ["as PEM", TEST_PRIVATE_KEY],
    ["with escaped newlines", TEST_PRIVATE_KEY.replace(/\n/g, "\\n")],
    ["base64-encoded", Buffer.from(TEST_PRIVATE_KEY).toString("base64")],
  ])("reads the private key %s", (_form, key) => {
    const credentials = appCredentials(parseServerEnv({ ...live, PRIVATE_KEY: key }));
    expect(credentials).toEqual({ appId: 42, privateKey: TEST_PRIVATE_KEY.trim() + "\n", webhookSecret: "s3cret" });
  });

  it("rejects a private key that is not a PEM, naming the variable", () => {
    expect(() => appCredentials(parseServerEnv({ ...live, PRIVATE_KEY: "not a key" }))).toThrow(/^PRIVATE_KEY is not a PEM/);
  });

  it("says which file it could not read for PRIVATE_KEY_PATH", () => {
    const env = parseServerEnv({ APP_ID: "42", PRIVATE_KEY_PATH: "/nonexistent/key.pem", WEBHOOK_SECRET: "s" });
    expect(() => appCredentials(env)).toThrow(/^PRIVATE_KEY_PATH cannot be read/);
  });

  it("needs the ECS executor's cluster, task definition, log group and public URL, and never echoes the callback secret", () => {
    expect(() => parseServerEnv({ GANTRY_CI_EXECUTOR: "ecs" })).toThrow(/^GANTRY_CI_ECS_CLUSTER is required when GANTRY_CI_EXECUTOR is ecs/);
    const ecs = { GANTRY_CI_EXECUTOR: "ecs", GANTRY_CI_ECS_CLUSTER: "ci", GANTRY_CI_ECS_TASK_DEFINITION: "gantry-ci", GANTRY_CI_ECS_LOG_GROUP: "/gantry/ci" };
    expect(() => parseServerEnv(ecs)).toThrow(/^GANTRY_PUBLIC_URL is required when GANTRY_CI_EXECUTOR is ecs/);
    const env = parseServerEnv({ ...ecs, GANTRY_PUBLIC_URL: "https://gantry.example.com", GANTRY_CI_ECS_SUBNETS: "subnet-a, subnet-b" });
    expect(env.GANTRY_CI_ECS_SUBNETS).toEqual(["subnet-a", "subnet-b"]);
    expect(env.GANTRY_CI_ECS_SECURITY_GROUPS).toEqual([]);
    expect(() => parseServerEnv({ GANTRY_CI_CALLBACK_SECRET: "short-secret" })).toThrow(/^GANTRY_CI_CALLBACK_SECRET must be at least 32 characters$/);
  });
});
