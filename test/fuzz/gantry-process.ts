// Gantry as its own process (`node src/main.ts`, as `npm start` runs it), watched throughout: alive,
// `/healthz` answering, resident memory from /proc, and its log read line by line.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { gantryNodeArgs } from "../support/gantry-command.ts";
import { TEST_APP_ID, TEST_PRIVATE_KEY, TEST_WEBHOOK_SECRET } from "../support/probot.ts";

/** A `/healthz` answer slower than this is a miss. */
const HEALTH_DEADLINE_MS = 1_000;
const SAMPLE_EVERY_MS = 250;

export interface LogFindings {
  lines: number;
  longestLineChars: number;
  /** Lines at error level or above, by message (a handler that failed is logged, not hidden). */
  errorMessages: Map<string, number>;
  /** What must never appear: an uncaught exception, an unhandled rejection, a fatal line, or text on stderr that is not a log line. */
  unhandled: string[];
}

export interface Vital {
  alive: boolean;
  exitCode: number | null;
  healthSamples: number;
  healthMisses: number;
  /** The longest time without a `/healthz` answer in time, in ms. */
  longestSilenceMs: number;
  rssMb: number;
  maxRssMb: number;
}

/** What one phase of the run did to the process. */
export interface PhaseVital {
  name: string;
  maxRssMb: number;
  longestSilenceMs: number;
  healthMisses: number;
}

/** The server variables of a Gantry process on the local world: the test App, its emulators, a data folder. */
export function localWorldEnv(world: { githubUrl: string; awsEndpoint: string; awsRegion: string; dataDir: string; accessKeyId: string }): Record<string, string> {
  return {
    APP_ID: String(TEST_APP_ID),
    PRIVATE_KEY: TEST_PRIVATE_KEY,
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "info",
    GITHUB_API_URL: world.githubUrl,
    GANTRY_DATA_DIR: world.dataDir,
    AWS_ENDPOINT_URL: world.awsEndpoint,
    AWS_ACCESS_KEY_ID: world.accessKeyId,
    AWS_SECRET_ACCESS_KEY: "local-world",
    AWS_REGION: world.awsRegion,
  };
}

export class GantryProcess {
  readonly phases: PhaseVital[] = [];
  readonly url: Promise<string>;
  readonly log: LogFindings = { lines: 0, longestLineChars: 0, errorMessages: new Map(), unhandled: [] };
  readonly #child: ChildProcess;
  #exitCode: number | null = null;
  #exited = false;
  #samples = 0;
  #misses = 0;
  #lastAnswer = Date.now();
  #longestSilenceMs = 0;
  #rssMb = 0;
  #maxRssMb = 0;
  #sampling: NodeJS.Timeout | undefined;

  constructor(env: Record<string, string>) {
    this.#child = spawn(process.execPath, gantryNodeArgs(), { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    this.#child.once("exit", (code) => {
      this.#exited = true;
      this.#exitCode = code;
    });
    this.url = new Promise((resolve, reject) => {
      this.#child.once("exit", (code) => reject(new Error(`gantry exited with ${code} before listening; ${this.log.unhandled.join(" | ")}`)));
      createInterface({ input: this.#child.stdout! }).on("line", (line) => {
        const listening = this.#readLine(line);
        if (listening) resolve(listening);
      });
    });
    createInterface({ input: this.#child.stderr! }).on("line", (line) => {
      if (line.trim() !== "") this.log.unhandled.push(`stderr: ${line.slice(0, 300)}`);
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** Samples `/healthz` and RSS until stopped. */
  async startSampling(): Promise<void> {
    const url = await this.url;
    this.#lastAnswer = Date.now();
    const sample = async () => {
      this.#readRss();
      const started = Date.now();
      const answered = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(HEALTH_DEADLINE_MS) }).then(
        async (response) => (await response.arrayBuffer(), response.ok),
        () => false,
      );
      this.#samples += 1;
      const now = Date.now();
      const phase = this.phases.at(-1);
      if (answered && now - started <= HEALTH_DEADLINE_MS) this.#lastAnswer = now;
      else {
        this.#misses += 1;
        if (phase) phase.healthMisses += 1;
      }
      this.#longestSilenceMs = Math.max(this.#longestSilenceMs, now - this.#lastAnswer);
      if (phase) phase.longestSilenceMs = Math.max(phase.longestSilenceMs, now - this.#lastAnswer);
      this.#sampling = setTimeout(() => void sample(), SAMPLE_EVERY_MS);
    };
    await sample();
  }

  /** Vitals from now on are also counted under `name`. */
  phase(name: string): void {
    this.phases.push({ name, maxRssMb: this.#rssMb, longestSilenceMs: 0, healthMisses: 0 });
  }

  vital(): Vital {
    this.#readRss();
    return {
      alive: !this.#exited,
      exitCode: this.#exitCode,
      healthSamples: this.#samples,
      healthMisses: this.#misses,
      longestSilenceMs: this.#longestSilenceMs,
      rssMb: this.#rssMb,
      maxRssMb: this.#maxRssMb,
    };
  }

  async health(): Promise<{ inbox: Record<string, number> }> {
    return (await (await fetch(`${await this.url}/healthz`)).json()) as { inbox: Record<string, number> };
  }

  async stop(): Promise<void> {
    clearTimeout(this.#sampling);
    this.#sampling = undefined;
    if (this.#exited) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  #readRss(): void {
    if (this.#exited) return;
    try {
      const match = /^VmRSS:\s+(\d+) kB/mu.exec(readFileSync(`/proc/${this.pid}/status`, "utf8"));
      if (!match) return;
      this.#rssMb = Number(match[1]) / 1024;
      this.#maxRssMb = Math.max(this.#maxRssMb, this.#rssMb);
      const phase = this.phases.at(-1);
      if (phase) phase.maxRssMb = Math.max(phase.maxRssMb, this.#rssMb);
    } catch {
      // The process is gone between the check and the read; `alive` says so.
    }
  }

  /** Reads one stdout line; returns Gantry's URL from the line saying it listens. */
  #readLine(line: string): string | undefined {
    this.log.lines += 1;
    this.log.longestLineChars = Math.max(this.log.longestLineChars, line.length);
    let entry: { level?: number; msg?: string };
    try {
      entry = JSON.parse(line) as { level?: number; msg?: string };
    } catch {
      this.log.unhandled.push(`not a log line: ${line.slice(0, 300)}`);
      return undefined;
    }
    const message = String(entry.msg ?? "");
    if ((entry.level ?? 0) >= 60 || /uncaught|unhandled/iu.test(message)) this.log.unhandled.push(line.slice(0, 500));
    else if ((entry.level ?? 0) >= 50) this.log.errorMessages.set(message.slice(0, 120), (this.log.errorMessages.get(message.slice(0, 120)) ?? 0) + 1);
    return /^Gantry listening on (\S+)/u.exec(message)?.[1];
  }
}
