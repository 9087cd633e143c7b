import { afterEach, describe, expect, it } from "vitest";
import { type World, startWorld, statusOf } from "./fixture.ts";

let world: World;
afterEach(async () => {
  expect(world.emu.violations).toEqual([]);
  await world.emu.close();
});

const repo = { owner: "octo", repo: "app" };
const annotation = { path: "src/index.ts", start_line: 1, end_line: 1, annotation_level: "failure" as const, message: "boom" };

describe("GitHub emulator: check runs", () => {
  it("creates, updates, gets and lists check runs for a branch or sha", async () => {
    world = await startWorld();
    const { status, data: run } = await world.octokit.rest.checks.create({ ...repo, name: "gantry/test", head_sha: world.sha, status: "in_progress" });
    expect(status).toBe(201);
    expect(run).toMatchObject({ name: "gantry/test", head_sha: world.sha, status: "in_progress", conclusion: null, app: { id: 1 } });
    const output = { title: "1 failed", summary: "see annotations", annotations: [annotation] };
    const { data: done } = await world.octokit.rest.checks.update({ ...repo, check_run_id: run.id, conclusion: "failure", output });
    expect(done).toMatchObject({ status: "completed", conclusion: "failure", output: { title: "1 failed", annotations_count: 1 } });
    expect(done.completed_at).not.toBeNull();
    expect((await world.octokit.rest.checks.get({ ...repo, check_run_id: run.id })).data.conclusion).toBe("failure");
    await world.octokit.rest.checks.create({ ...repo, name: "gantry/image", head_sha: world.sha });
    const { data: rerun } = await world.octokit.rest.checks.create({ ...repo, name: "gantry/test", head_sha: world.sha });
    const latest = await world.octokit.rest.checks.listForRef({ ...repo, ref: "main" });
    expect(latest.data.total_count).toBe(2);
    expect(latest.data.check_runs.map((r) => r.id)).toContain(rerun.id);
    const all = await world.octokit.rest.checks.listForRef({ ...repo, ref: world.sha, filter: "all", check_name: "gantry/test" });
    expect(all.data.check_runs.map((r) => r.id)).toEqual([rerun.id, run.id]);
  });

  it("rejects an invalid conclusion, a missing annotation_level, completed without conclusion, and an unknown sha (422)", async () => {
    world = await startWorld();
    const create = (body: Record<string, unknown>) =>
      statusOf(world.octokit.request("POST /repos/{owner}/{repo}/check-runs", { ...repo, name: "x", head_sha: world.sha, ...body }));
    expect(await create({ conclusion: "bogus" })).toBe(422);
    expect(await create({ output: { title: "t", summary: "s", annotations: [{ ...annotation, annotation_level: undefined }] } })).toBe(422);
    expect(await create({ status: "completed" })).toBe(422);
    expect(await create({ head_sha: "f".repeat(40) })).toBe(422);
    expect(world.emu.state.repos.get("octo/app")?.checkRuns.size).toBe(0);
    expect(await statusOf(world.octokit.rest.checks.get({ ...repo, check_run_id: 424242 }))).toBe(404);
  });
});

describe("GitHub emulator: deployments", () => {
  it("creates deployments with statuses; a later success makes the earlier one inactive", async () => {
    world = await startWorld();
    const create = async () => {
      const { status, data } = await world.octokit.rest.repos.createDeployment({ ...repo, ref: "main", environment: "production", auto_merge: false, required_contexts: [], payload: { image: "sha256:abc" } });
      expect(status).toBe(201);
      if (!("id" in data)) throw new Error("expected a deployment");
      return data;
    };
    const first = await create();
    expect(first).toMatchObject({ sha: world.sha, ref: "main", environment: "production", production_environment: true, payload: { image: "sha256:abc" }, creator: { login: "gantry[bot]" } });
    await world.octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: first.id, state: "success" });
    const second = await create();
    await world.octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: second.id, state: "in_progress", log_url: "http://127.0.0.1/log" });
    const { data: s } = await world.octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: second.id, state: "success" });
    expect(s).toMatchObject({ state: "success", environment: "production" });
    const states = async (id: number) => (await world.octokit.rest.repos.listDeploymentStatuses({ ...repo, deployment_id: id })).data.map((x) => x.state);
    expect(await states(second.id)).toEqual(["success", "in_progress"]);
    expect(await states(first.id)).toEqual(["inactive", "success"]);
    const listed = await world.octokit.rest.repos.listDeployments({ ...repo, environment: "production" });
    expect(listed.data.map((d) => d.id)).toEqual([second.id, first.id]);
    expect((await world.octokit.rest.repos.listDeployments({ ...repo, environment: "staging" })).data).toEqual([]);
  });

  it("rejects an unknown ref and an invalid status state (422) and an unknown deployment (404)", async () => {
    world = await startWorld();
    expect(await statusOf(world.octokit.rest.repos.createDeployment({ ...repo, ref: "nope" }))).toBe(422);
    const bad = world.octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: 1, state: "done" as "success" });
    expect(await statusOf(bad)).toBe(422);
    expect(await statusOf(world.octokit.rest.repos.listDeploymentStatuses({ ...repo, deployment_id: 1 }))).toBe(404);
  });
});
