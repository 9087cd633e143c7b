// The shard runner: started by an executor (a local child process, an ECS task) with three
// variables, it fetches its job and the commit's source from Gantry, runs the tests and reports
// back. It holds no GitHub or AWS credentials: only a token valid for this shard's attempt.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shardJobSchema, type ShardReport } from "../shard-report.ts";
import { installDependencies } from "./dependency-cache.ts";
import { runTests } from "./run-tests.ts";

const baseUrl = required("GANTRY_CI_URL");
const shard = required("GANTRY_CI_SHARD");
const token = required("GANTRY_CI_TOKEN");
const workdir = process.env.GANTRY_CI_WORKDIR || mkdtempSync(join(tmpdir(), "gantry-shard-"));
const cacheDir = process.env.GANTRY_CI_CACHE_DIR || undefined;

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`shard runner: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const url = `${baseUrl}${path}?shard=${encodeURIComponent(shard)}`;
  const response = await fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${await response.text()}`);
  return response;
}

async function report(result: ShardReport): Promise<void> {
  await call("/ci/result", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(result) });
}

const failed = (error: string): ShardReport => ({ passed: 0, skipped: 0, failures: [], flaky: [], files: [], durationMs: 0, exitCode: 1, error });

try {
  const job = shardJobSchema.parse(await (await call("/ci/job")).json());
  mkdirSync(workdir, { recursive: true });
  const archive = join(workdir, "..", `${shard}.tar.gz`);
  writeFileSync(archive, Buffer.from(await (await call("/ci/source")).arrayBuffer()));
  execFileSync("tar", ["-xzf", archive, "-C", workdir, "--strip-components=1"]);
  const install = await installDependencies(job, workdir, cacheDir);
  await report(install.exitCode !== 0 ? failed(`installing dependencies failed (exit code ${install.exitCode})`) : await runTests(job, workdir));
} catch (error) {
  console.error(`shard runner: ${error instanceof Error ? error.message : String(error)}`);
  await report(failed(error instanceof Error ? error.message.slice(0, 500) : "the runner failed")).catch(() => process.exit(1));
}
