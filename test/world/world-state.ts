// Where a running world says how to reach it: a small JSON file (default data/world/world.json,
// or WORLD_STATE_FILE), written once the world is up and removed when it stops.
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";

export const worldStateSchema = z.object({
  pid: z.number().int(),
  control: z.url(),
  github: z.url(),
  aws: z.object({ endpoint: z.url(), region: z.string() }),
  listeners: z.object({ production: z.url(), test: z.url() }),
  appId: z.number().int(),
  webhookSecret: z.string(),
  privateKeyPath: z.string(),
  webhookUrl: z.url().nullable(),
  /** Gantry's Slack settings for this world: the Web API, its bot token, the signing secret of clicks, and the operator's file of who is who. */
  slack: z.object({ api: z.url(), botToken: z.string(), signingSecret: z.string(), identitiesFile: z.string() }),
  /** Gantry's image-build settings for this world's CodeBuild (region: the AWS region). */
  imageBuilds: z.object({ project: z.string(), roleArn: z.string() }),
});
export type WorldState = z.infer<typeof worldStateSchema>;

/**
 * The server variables that point Gantry at this world: the App, GitHub, AWS (Gantry's own keys,
 * which may only assume the world's roles), image builds on the world's CodeBuild, and Slack.
 */
export function gantryEnvFor(state: WorldState): Record<string, string> {
  return {
    APP_ID: String(state.appId),
    PRIVATE_KEY_PATH: state.privateKeyPath,
    WEBHOOK_SECRET: state.webhookSecret,
    GITHUB_API_URL: state.github,
    AWS_ENDPOINT_URL: state.aws.endpoint,
    AWS_REGION: state.aws.region,
    AWS_ACCESS_KEY_ID: "AKIDGANTRY",
    AWS_SECRET_ACCESS_KEY: "any",
    GANTRY_IMAGE_BUILDER: "codebuild",
    GANTRY_CODEBUILD_PROJECT: state.imageBuilds.project,
    GANTRY_IMAGE_BUILD_REGION: state.aws.region,
    GANTRY_IMAGE_BUILD_ROLE_ARN: state.imageBuilds.roleArn,
    // The world's builds take a moment, not minutes.
    GANTRY_IMAGE_BUILD_POLL_MS: "250",
    SLACK_SIGNING_SECRET: state.slack.signingSecret,
    SLACK_BOT_TOKEN: state.slack.botToken,
    SLACK_API_URL: state.slack.api,
    GANTRY_SLACK_IDENTITIES_FILE: state.slack.identitiesFile,
  };
}

export function worldStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.WORLD_STATE_FILE ?? "data/world/world.json";
}

/** The running world's state, or undefined when none has written it. */
export function readWorldState(file = worldStateFile()): WorldState | undefined {
  if (!existsSync(file)) return undefined;
  return worldStateSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}
