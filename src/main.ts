import { appCredentials, parseServerEnv, ServerEnvError } from "./config/server-env.ts";
import { startGantry } from "./gantry.ts";
import { stopOnSignals } from "./lifecycle/shutdown.ts";
import { boundedLog } from "./log/bounded-log.ts";
import { releaseMemoryWhenIdle, releaseStartupMemory } from "./memory/release-memory.ts";
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
    const setup = await startSetupMode(env, log);
    stopOnSignals({ log, timeoutMs: env.GANTRY_SHUTDOWN_TIMEOUT_MS, stop: async () => (await setup.stop(), { unfinished: [] }) });
  } else {
    const gantry = await startGantry({ env, credentials, log });
    releaseStartupMemory();
    const memory = releaseMemoryWhenIdle({
      released: (fromMb, toMb) => {
        const { heapUsed, external } = process.memoryUsage();
        const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
        log.info({ fromMb: Math.round(fromMb), toMb: Math.round(toMb), heapUsedMb: mb(heapUsed), externalMb: mb(external) }, "idle after a burst: gave memory back to the system");
      },
    });
    stopOnSignals({ log, timeoutMs: env.GANTRY_SHUTDOWN_TIMEOUT_MS, stop: () => (memory.stop(), gantry.stop()) });
  }
} catch (error) {
  if (!(error instanceof ServerEnvError)) throw error;
  console.error(`gantry: configuration error: ${error.message}`);
  process.exit(1);
}
