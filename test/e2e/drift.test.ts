import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/audit-log.ts";
import { TERMINAL_PHASES, type DeploymentView, type Phase, type RepoRef } from "../../src/deploy/api.ts";
import { randomSha, splitByHand as setWeightsByHand } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";
import { TEST_INSTALLATION_ID } from "../support/probot.ts";
import type { Comment } from "../world/github/state.ts";
import { eventually, FULL_NAME, NAME, OWNER, startE2eWorld, type E2eWorld } from "./world.ts";

// One world for the whole file, in order: drift on the first deployment is forced over by the second,
// drift on the second is acknowledged before the third.
describe("traffic changed outside Gantry, end to end: GitHub emulator → Gantry → AWS emulator", { timeout: 120_000 }, () => {
  // History and status are looked up by name; the id only matters to AWS, which these reads skip.
  const REPO: RepoRef = { owner: OWNER, repo: NAME, id: 0, installationId: TEST_INSTALLATION_ID };
  const SHA_A = randomSha();
  const SHA_B = randomSha();
  let e: E2eWorld;
  /** Traffic for the judge to see; the drift itself may send some of it to a colour being replaced. */
  let load: ReturnType<typeof startLoad>;

  beforeAll(async () => {
    e = await startE2eWorld({ driftCheckMs: 200 });
    e.github.seedPermission(FULL_NAME, "writer", "write");
    e.github.seedPermission(FULL_NAME, "root", "admin");
    // The old colour stays warm, so the split someone sets by hand reaches running tasks.
    e.commitConfig({ strategy: { type: "canary", steps: [{ weight: 25, bake: "1s" }, { weight: 100, bake: "1s" }] }, postPromotionWatch: "1s", keepWarm: "60s" });
    await e.readyPullRequest(1, SHA_A, { version: "v2" });
    await e.readyPullRequest(2, SHA_B, { version: "v3" });
    load = startLoad(e.world.listeners.production.url, 50);
  });
  afterAll(async () => {
    await load?.stop();
    await e?.close();
  });

  const botComments = (issue: number): Comment[] =>
    [...e.repo.comments.values()].filter((comment) => comment.issueNumber === issue && comment.user.type === "Bot");
  const statusComment = (issue: number) => botComments(issue).find((comment) => comment.body.startsWith("<!-- gantry:deployment"));
  /** Gantry's reply to a command, once processed: empty when the status comment is the reply (a deploy started). */
  const command = async (issue: number, login: string, body: string): Promise<string> => {
    const before = new Set(botComments(issue).map((comment) => comment.id));
    await e.comment(issue, login, body);
    await e.inboxSettled();
    await e.outboxSettled();
    const replies = botComments(issue).filter((comment) => !before.has(comment.id) && !comment.body.startsWith("<!-- gantry:deployment"));
    expect(replies.length, `at most one reply to ${body}`).toBeLessThanOrEqual(1);
    return replies[0]?.body ?? "";
  };
  /** The newest deployment of `sha`, once it reaches one of `phases` or ends. */
  const until = (sha: string, phases: Phase[]) =>
    eventually<DeploymentView>(`${sha.slice(0, 7)} to reach ${phases.join("/")}`, async () => {
      const newest = (await e.gantry.controller.history(REPO)).find((deployment) => deployment.sha === sha);
      return newest && [...phases, ...TERMINAL_PHASES].includes(newest.phase) ? newest : undefined;
    });
  const audit = () => new AuditLog(e.gantry.store).recent(FULL_NAME, { limit: 50 });
  const splitByHand = (blue: number, green: number) => setWeightsByHand(e.aws, e.world, { blue, green });

  it("reports drift in /status, the status comment and the audit log, and refuses a deploy until an admin forces it", async () => {
    expect(await command(1, "writer", "/deploy production")).toBe("");
    const first = await until(SHA_A, ["cooling"]);
    expect(first.phase).toBe("cooling");
    expect(await e.liveWeights()).toEqual({ blue: 0, green: 100 });

    await splitByHand(30, 70);

    const detected = await eventually("drift in the audit log", async () => (await audit()).find((entry) => entry.decision === "detected"));
    expect(detected).toMatchObject({
      actor: "gantry",
      environment: "production",
      issueNumber: 1,
      reason: `the production load balancer reports blue 30% / green 70%; Gantry last set blue 0% / green 100% (deployment ${first.id} of ${SHA_A.slice(0, 7)})`,
    });
    const driftRow = await eventually("the drift row in the status comment", () => statusComment(1)?.body.split("\n").find((line) => line.startsWith("| drift |")));
    expect(driftRow).toMatch(/^\| drift \| ⚠️ load balancer at green 70% · blue 30%, not the green 100% · blue 0% Gantry set \(found .+\); deploys wait for `\/ack-drift production` \|$/);
    expect(await command(1, "writer", "/status")).toContain("**production**: ⚠️ load balancer at green 70% · blue 30%");

    const refused = await command(2, "writer", "/deploy production");
    expect(refused).toMatch(/^🛑 `\/deploy production` refused: traffic in production was changed outside Gantry: the load balancer reports blue 30% \/ green 70%, Gantry last set blue 0% \/ green 100%/);
    expect(refused).toContain("then `/ack-drift production` lets deploys in again; an admin can deploy over it with `/deploy production --force`");
    const notAdmin = await command(2, "writer", "/deploy production --force");
    expect(notAdmin).toContain("refused by the **break-glass** gate: --force deploys over traffic changed outside Gantry, and only a repository admin may use it; @writer has write access.");
    expect((await e.gantry.controller.history(REPO)).map((deployment) => deployment.sha)).toEqual([SHA_A]);
    expect(await e.liveWeights()).toEqual({ blue: 30, green: 70 });

    expect(await command(2, "root", "/deploy production --force")).toBe("");
    const forced = (await audit()).find((entry) => entry.command === "/deploy production --force" && entry.actor === "root");
    expect(forced).toMatchObject({ decision: "accepted", reason: expect.stringMatching(/started, with --force over drift \(load balancer at green 70% · blue 30%, Gantry had set green 100% · blue 0%\)$/) });
    expect(await until(SHA_B, ["cooling"])).toMatchObject({ phase: "cooling" });
    expect(await e.liveWeights()).toEqual({ blue: 100, green: 0 });
    await eventually("the forced drift on the first status comment", () => (statusComment(1)?.body.includes("; forced by @root: deployed") ? true : undefined));
    expect((await e.gantry.controller.status(REPO))[0]?.drift).toMatchObject({ resolution: "forced", resolvedBy: "root" });
  });

  it("lets a deploy in once someone acknowledges the drift, and does not report the acknowledged split again", async () => {
    await splitByHand(80, 20);
    await eventually("the second drift", async () => ((await e.gantry.controller.status(REPO))[0]?.drift?.resolution === null ? true : undefined));
    expect((await command(1, "writer", "/deploy production")).startsWith("🛑 `/deploy production` refused: traffic in production was changed outside Gantry")).toBe(true);

    const acknowledged = await command(1, "writer", '/ack-drift production --reason "blue was drained by hand during an incident"');
    expect(acknowledged).toMatch(
      /^✅ Drift in production acknowledged \(the load balancer at green 20% · blue 80% where Gantry had set green 0% · blue 100%\)\. Deploys to production may go ahead\.\n\n<!-- gantry:reply-to \d+ -->$/,
    );
    // Several more looks at the same split: still acknowledged, nothing new in the audit log.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await audit()).filter((entry) => entry.decision === "detected")).toHaveLength(2);
    expect((await e.gantry.controller.status(REPO))[0]?.drift).toMatchObject({ resolution: "acknowledged", resolvedBy: "writer", note: "blue was drained by hand during an incident" });
    expect(await command(1, "writer", "/ack-drift production")).toContain("was already acknowledged by @writer; there is nothing open to acknowledge");

    expect(await command(1, "writer", "/deploy production")).toBe("");
    const history = await e.gantry.controller.history(REPO);
    expect(history.map((deployment) => deployment.sha)).toEqual([SHA_A, SHA_B, SHA_A]);
    expect(await until(SHA_A, ["cooling"])).toMatchObject({ id: history[0]!.id, phase: "cooling" });
  });
});
