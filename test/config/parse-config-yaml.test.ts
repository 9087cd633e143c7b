import { describe, expect, it } from "vitest";
import { MAX_CONFIG_DEPTH, parseConfigYaml } from "../../src/config/parse-config-yaml.ts";

describe("parsing gantry.yml within bounds", () => {
  it("reads quotes, apostrophes, comments and block scalars as YAML does, without false alarms", () => {
    const text = [
      "# see [the docs (and [more [notes",
      "ci:",
      "  command: |",
      "    test -f x && echo don't [ stop",
      "  name: it's \"fine\" # trailing [[[ comment",
      "  quoted: 'a [ b' ",
      '  multi: "first [',
      '    second ] line"',
      `  nested: ${"[".repeat(MAX_CONFIG_DEPTH - 2)}1${"]".repeat(MAX_CONFIG_DEPTH - 2)}`,
    ].join("\n");
    const parsed = parseConfigYaml(text);
    expect(parsed).toMatchObject({ ok: true, value: { ci: { name: 'it\'s "fine"', quoted: "a [ b", multi: "first [ second ] line" } } });
  });

  it("refuses deep nesting hidden after a quoted scalar that spans lines", () => {
    const text = `a: "x\n  y"\nb: ${"[".repeat(5_000)}${"]".repeat(5_000)}\n`;
    expect(parseConfigYaml(text)).toMatchObject({ ok: false, problem: { setting: "(nesting)", line: 3 } });
    const afterBar = `a: "x |\n  ", b: ${"[".repeat(5_000)}${"]".repeat(5_000)}\n`;
    expect(parseConfigYaml(afterBar)).toMatchObject({ ok: false, problem: { setting: "(nesting)", line: 2 } });
  });

  it("finds the line of each of 12,000 keys in one mapping from the index built once", () => {
    const keys = Array.from({ length: 12_000 }, (_, index) => `    key_${index}: ${index}`);
    const parsed = parseConfigYaml(`environments:\n  production:\n${keys.join("\n")}\n`);
    if (!parsed.ok) throw new Error(parsed.problem.message);
    for (let index = 0; index < 12_000; index++) {
      expect(parsed.lineOf(["environments", "production", `key_${index}`])).toBe(index + 3);
    }
    // A setting that is not there points at its nearest parent that is.
    expect(parsed.lineOf(["environments", "production", "listeners", "test"])).toBe(2);
    expect(parsed.lineOf(["ci"])).toBe(1);
  });
});
