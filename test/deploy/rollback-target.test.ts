import { describe, expect, it } from "vitest";
import { rollbackTarget } from "../../src/deploy/rollback-target.ts";
import { deploymentFixture } from "../support/deployment-fixture.ts";

const succeeded = (id: string, sha: string, rollbackOf?: string) =>
  deploymentFixture({ id, sha, phase: "succeeded", ...(rollbackOf ? { rollbackOf } : {}) });

describe("what /rollback redeploys once the old colour is gone", () => {
  it.each([
    ["the deployment before the live one", [succeeded("b", "B"), succeeded("a", "A")], "a"],
    ["nothing when there is no earlier one", [succeeded("a", "A")], undefined],
    ["nothing when there are no deployments", [], undefined],
    ["past redeploys of the live commit", [succeeded("a2", "A"), succeeded("a1", "A"), succeeded("z", "Z")], "z"],
    ["further back on a second /rollback, not the commit the first one left", [succeeded("r1", "A", "b"), succeeded("b", "B"), succeeded("a", "A"), succeeded("z", "Z")], "z"],
    ["nothing when the only other commit was rolled away from", [succeeded("r1", "A", "b"), succeeded("b", "B"), succeeded("a", "A")], undefined],
  ])("picks %s", (_case, newestFirst, expected) => {
    expect(rollbackTarget(newestFirst)?.target.id).toBe(expected);
  });
});
