import { appCredentials, parseServerEnv, ServerEnvError } from "./config/server-env.ts";
import { startGantry } from "./gantry.ts";
import { boundedLog } from "./log/bounded-log.ts";
import { releaseStartupMemory } from "./memory/release-startup-memory.ts";
import { startSetupMode } from "./web/setup-mode.ts";

try {
  process.loadEnvFile();
} catch {
  // No .env file: the environment alone configures Gantry.
}

try {
  const env = parseServerEnv(process.env);
  const log = boundedLog(env.LOG_LEVEL);
  const credentials = appCredentials(env);
  if (!credentials) {
    log.info("No APP_ID: starting the setup flow to register the GitHub App");
    await startSetupMode(env, log);
  } else {
    const gantry = await startGantry({ env, credentials, log });
    releaseStartupMemory();
    const shutdown = async (signal: string) => {
      log.info(`${signal}: finishing deliveries in hand, then stopping`);
      await gantry.stop();
      process.exit(0);
    };
    process.once("SIGTERM", () => void shutdown("SIGTERM"));
    process.once("SIGINT", () => void shutdown("SIGINT"));
  }
} catch (error) {
  if (!(error instanceof ServerEnvError)) throw error;
  console.error(`gantry: configuration error: ${error.message}`);
  process.exit(1);
}
