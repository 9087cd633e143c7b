import { afterEach, describe, expect, it } from "vitest";
import { checkRunEvent, checkSuiteEvent, pushEvent } from "./events.ts";
import { type World, startWorld } from "./fixture.ts";

let world: World;
afterEach(async () => {
  expect(world.emu.violations).toEqual([]);
  await world.emu.close();
});

const repo = { owner: "octo", repo: "app" };

describe("GitHub emulator: what test shards use", () => {
  it("lists a commit's tree, recursively or its top level", async () => {
    world = await startWorld();
    const { data } = await world.octokit.rest.git.getTree({ ...repo, tree_sha: world.sha, recursive: "1" });
    expect(data.truncated).toBe(false);
    expect(data.tree.map((entry) => [entry.path, entry.type])).toEqual([
      [".github", "tree"],
      [".github/gantry.yml", "blob"],
      ["src", "tree"],
      ["src/index.ts", "blob"],
    ]);
    const top = await world.octokit.rest.git.getTree({ ...repo, tree_sha: "main" });
    expect(top.data.tree.map((entry) => entry.path)).toEqual([".github", "src"]);
  });

  it("keeps an app's check runs on a commit in one check suite, and their requested actions", async () => {
    world = await startWorld();
    const action = { label: "Re-run failed shards", description: "Runs them again with the same files", identifier: "rerun-failed" };
    const { data: summary } = await world.octokit.rest.checks.create({ ...repo, name: "gantry/test", head_sha: world.sha, status: "completed", conclusion: "failure", actions: [action] });
    const { data: shard } = await world.octokit.rest.checks.create({ ...repo, name: "gantry/test (1/2)", head_sha: world.sha });
    expect(shard.check_suite?.id).toBe(summary.check_suite?.id);
    const state = world.emu.state.repos.get("octo/app")!;
    expect(state.checkRuns.get(summary.id)?.actions).toEqual([action]);

    // The events GitHub sends when a person presses Re-run, the button, or Re-run all.
    const rerun = checkRunEvent(world.emu.url, world.emu.state, state, state.checkRuns.get(shard.id)!);
    expect(rerun).toMatchObject({ action: "rerequested", check_run: { id: shard.id, app: { id: 1 }, check_suite: { id: shard.check_suite?.id } }, repository: { id: state.id } });
    expect(checkRunEvent(world.emu.url, world.emu.state, state, state.checkRuns.get(summary.id)!, "rerun-failed")).toMatchObject({ action: "requested_action", requested_action: { identifier: "rerun-failed" } });
    expect(checkSuiteEvent(world.emu.url, world.emu.state, state, world.sha)).toMatchObject({ action: "rerequested", check_suite: { id: summary.check_suite?.id, head_sha: world.sha, app: { id: 1 } } });
    expect(pushEvent(world.emu.url, state, "main")).toMatchObject({ ref: "refs/heads/main", after: world.sha, deleted: false, repository: { default_branch: "main", full_name: "octo/app" } });
  });

  it("refuses an action GitHub would refuse: a description over 40 characters (422)", async () => {
    world = await startWorld();
    const long = { label: "Re-run failed shards", description: "Runs the failed shards again with the same files", identifier: "rerun-failed" };
    await expect(world.octokit.rest.checks.create({ ...repo, name: "gantry/test", head_sha: world.sha, actions: [long] })).rejects.toMatchObject({ status: 422 });
  });
});
