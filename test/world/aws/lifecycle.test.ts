import { RegisterTaskDefinitionCommand, RunTaskCommand } from "@aws-sdk/client-ecs";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { startAwsEmulator } from "./index.ts";
import { clients, get, waitFor, waitSteady } from "./test-helpers.ts";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it("close() ends every process it started: service tasks and command tasks with their children", async () => {
  const emu = await startAwsEmulator({ healthCheckIntervalMs: 50 });
  const world = await emu.seedSampleWorld();
  const { ecs } = clients(emu);
  await waitSteady(ecs, world, world.services.blue.name);
  const servicePids = new Set<number>();
  while (servicePids.size < 2) servicePids.add((JSON.parse((await get(`${world.listeners.production.url}/`)).body) as { pid: number }).pid);

  const dir = mkdtempSync(join(tmpdir(), "ecs-close-"));
  const td = await ecs.send(new RegisterTaskDefinitionCommand({ family: "long", containerDefinitions: [{ name: "c", image: "busybox" }] }));
  // The shell backgrounds a grandchild, which must die with the task's process group.
  await ecs.send(
    new RunTaskCommand({
      cluster: world.clusterArn,
      taskDefinition: td.taskDefinition?.taskDefinitionArn,
      overrides: { containerOverrides: [{ name: "c", command: [`sleep 60 & echo $! > ${join(dir, "pid")}; wait`] }] },
    }),
  );
  const childPid = await waitFor("grandchild pid", async () => {
    const text = (() => {
      try {
        return readFileSync(join(dir, "pid"), "utf8").trim();
      } catch {
        return "";
      }
    })();
    return text ? Number(text) : undefined;
  });
  const pids = [...servicePids, childPid];
  expect(pids.every(alive)).toBe(true);

  await emu.close();
  await waitFor("processes gone", async () => pids.every((p) => !alive(p)), 5000);
});
