import { afterEach, describe, expect, it } from "vitest";
import { type World, startWorld, statusOf } from "./fixture.ts";

let world: World;
afterEach(async () => {
  expect(world.emu.violations).toEqual([]);
  await world.emu.close();
});

const repo = { owner: "octo", repo: "app" };

describe("GitHub emulator: pulls, comments, reactions", () => {
  it("gets and lists pulls with state and head filters", async () => {
    world = await startWorld();
    world.emu.seedPull("octo/app", { number: 4, user: "alice", head: { ref: "feat", sha: "c".repeat(40) } });
    world.emu.seedPull("octo/app", { number: 5, user: "bob", head: { ref: "old", sha: "d".repeat(40) }, state: "closed" });
    const { data: pull } = await world.octokit.rest.pulls.get({ ...repo, pull_number: 4 });
    expect(pull).toMatchObject({ number: 4, state: "open", user: { login: "alice" }, head: { ref: "feat", sha: "c".repeat(40) }, base: { ref: "main", sha: world.sha } });
    expect(pull.head.repo?.full_name).toBe("octo/app");
    const open = await world.octokit.rest.pulls.list(repo);
    expect(open.data.map((p) => p.number)).toEqual([4]);
    const all = await world.octokit.rest.pulls.list({ ...repo, state: "all" });
    expect(all.data.map((p) => p.number)).toEqual([5, 4]);
    const byHead = await world.octokit.rest.pulls.list({ ...repo, state: "all", head: "octo:old" });
    expect(byHead.data.map((p) => p.number)).toEqual([5]);
    expect(await statusOf(world.octokit.rest.pulls.get({ ...repo, pull_number: 99 }))).toBe(404);
  });

  it("creates, gets, updates and lists comments as the app's bot, paginating by Link header", async () => {
    world = await startWorld();
    world.emu.seedPull("octo/app", { number: 4, user: "alice", head: { ref: "feat", sha: "c".repeat(40) } });
    const command = world.emu.seedComment("octo/app", 4, "alice", "/deploy production");
    const { status, data: created } = await world.octokit.rest.issues.createComment({ ...repo, issue_number: 4, body: "Deploying…" });
    expect(status).toBe(201);
    expect(created.user?.login).toBe("gantry[bot]");
    const { data: updated } = await world.octokit.rest.issues.updateComment({ ...repo, comment_id: created.id, body: "Deployed" });
    expect(updated.body).toBe("Deployed");
    expect((await world.octokit.rest.issues.getComment({ ...repo, comment_id: created.id })).data.body).toBe("Deployed");
    for (let i = 0; i < 3; i++) await world.octokit.rest.issues.createComment({ ...repo, issue_number: 4, body: `n${i}` });
    const all = await world.octokit.paginate(world.octokit.rest.issues.listComments, { ...repo, issue_number: 4, per_page: 2 });
    expect(all.map((c) => c.body)).toEqual([command.body, "Deployed", "n0", "n1", "n2"]);
    expect(all[0]?.user?.login).toBe("alice");
  });

  it("rejects comments on a missing issue (404) and a body without `body` (422)", async () => {
    world = await startWorld();
    world.emu.seedPull("octo/app", { number: 4, user: "alice", head: { ref: "feat", sha: "c".repeat(40) } });
    expect(await statusOf(world.octokit.rest.issues.createComment({ ...repo, issue_number: 9, body: "x" }))).toBe(404);
    expect(await statusOf(world.octokit.request("POST /repos/{owner}/{repo}/issues/4/comments", { ...repo, text: "x" }))).toBe(422);
  });

  it("adds a reaction once (201, then 200 for the same one), lists them, and rejects unknown content", async () => {
    world = await startWorld();
    world.emu.seedPull("octo/app", { number: 4, user: "alice", head: { ref: "feat", sha: "c".repeat(40) } });
    const comment = world.emu.seedComment("octo/app", 4, "alice", "/deploy");
    const first = await world.octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: comment.id, content: "rocket" });
    const again = await world.octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: comment.id, content: "rocket" });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.data.id).toBe(first.data.id);
    await world.octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: comment.id, content: "eyes" });
    const { data } = await world.octokit.rest.reactions.listForIssueComment({ ...repo, comment_id: comment.id });
    expect(data.map((r) => r.content)).toEqual(["rocket", "eyes"]);
    const bogus = world.octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: comment.id, content: "party" as "rocket" });
    expect(await statusOf(bogus)).toBe(422);
  });
});

describe("GitHub emulator: permissions and teams", () => {
  it("reports collaborator permission, with legacy folding of newer roles", async () => {
    world = await startWorld();
    world.emu.seedPermission("octo/app", "alice", "admin");
    world.emu.seedPermission("octo/app", "maya", "maintain");
    world.emu.seedUser("stranger");
    const level = async (username: string) => (await world.octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username })).data;
    expect(await level("alice")).toMatchObject({ permission: "admin", role_name: "admin", user: { login: "alice" } });
    expect(await level("maya")).toMatchObject({ permission: "write", role_name: "maintain" });
    expect(await level("stranger")).toMatchObject({ permission: "none" });
    expect(await statusOf(level("ghost"))).toBe(404);
  });

  it("reports team membership and 404s non-members and unknown teams", async () => {
    world = await startWorld();
    world.emu.seedTeam("octo", "deployers", [{ login: "alice", role: "maintainer" }, { login: "bob", state: "pending" }]);
    const membership = (team_slug: string, username: string) => world.octokit.rest.teams.getMembershipForUserInOrg({ org: "octo", team_slug, username });
    expect((await membership("deployers", "alice")).data).toMatchObject({ role: "maintainer", state: "active" });
    expect((await membership("deployers", "bob")).data).toMatchObject({ role: "member", state: "pending" });
    expect(await statusOf(membership("deployers", "carol"))).toBe(404);
    expect(await statusOf(membership("nobody", "alice"))).toBe(404);
  });
});
