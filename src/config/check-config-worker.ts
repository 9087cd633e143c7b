// Worker thread entry: checks configuration files off the main thread (see check-config-off-thread.ts).
import { parentPort } from "node:worker_threads";
import { checkConfigFiles, type ConfigFiles } from "./check-config-files.ts";

parentPort?.on("message", ({ id, input }: { id: number; input: ConfigFiles }) => {
  parentPort?.postMessage({ id, check: checkConfigFiles(input) });
});
