import { describe, expect, it } from "vitest";
import { globRegExp, matchesGlob } from "../../src/ci/glob.ts";
import { parseJUnit } from "../../src/ci/runner/junit.ts";

describe("JUnit reports", () => {
  it("reads node --test's report: file per case, the line from the failure's stack", () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testcase name="adds" time="0.001" classname="test" file="/w/src/test/a.test.mjs"/>
  <testcase name="shouts" time="0.002" classname="test" file="/w/src/test/b.test.mjs" failure="x">
    <failure type="testCodeFailure" message="Expected values to be strictly equal:&#10;&#10;'HI' !== 'HI!'">
      AssertionError: ... at TestContext.&lt;anonymous> (file:///w/src/test/b.test.mjs:6:10)
    </failure>
  </testcase>
</testsuites>`;
    expect(parseJUnit(xml)).toEqual([
      { file: "/w/src/test/a.test.mjs", name: "adds", timeMs: 1, outcome: "passed" },
      { file: "/w/src/test/b.test.mjs", name: "shouts", timeMs: 2, outcome: "failed", line: 6, message: "Expected values to be strictly equal:\n\n'HI' !== 'HI!'" },
    ]);
  });

  it("reads vitest's and pytest's nesting: the suite names the file, a case may carry its line, skipped cases count apart", () => {
    const xml = `<testsuites><testsuite name="test/math.test.ts" tests="3">
      <testcase classname="test/math.test.ts" name="divides &gt; by zero" time="0.5"><failure message="boom">Error: boom\n at test/math.test.ts:12:3</failure></testcase>
      <testcase classname="test/math.test.ts" name="later" time="0"><skipped/></testcase>
    </testsuite><testsuite name="pytest"><testcase file="tests/test_x.py" line="41" name="test_x" time="1.5"><error message="E assert 1 == 2"/></testcase></testsuite></testsuites>`;
    expect(parseJUnit(xml)).toEqual([
      { file: "test/math.test.ts", name: "divides > by zero", timeMs: 500, outcome: "failed", line: 12, message: "boom" },
      { file: "test/math.test.ts", name: "later", timeMs: 0, outcome: "skipped" },
      { file: "tests/test_x.py", name: "test_x", timeMs: 1500, outcome: "failed", line: 41, message: "E assert 1 == 2" },
    ]);
  });
});

describe("globs", () => {
  it("match paths as .github/gantry.yml means them", () => {
    expect(matchesGlob("test/a/b.test.ts", "test/**/*.test.ts")).toBe(true);
    expect(matchesGlob("test/b.test.ts", "test/**/*.test.ts")).toBe(true);
    expect(matchesGlob("src/b.test.ts", "test/**/*.test.ts")).toBe(false);
    expect(matchesGlob("test/a.test.tsx", "test/*.test.{ts,tsx}")).toBe(true);
    expect(matchesGlob("release/1.2", "release/*")).toBe(true);
    expect(matchesGlob("release/1/2", "release/*")).toBe(false);
    expect(matchesGlob("anything/at/all", "**")).toBe(true);
    expect(globRegExp("a.(b)+").test("a.(b)+")).toBe(true);
  });
});
