// The README and docs/ hold for someone who has only the repository: every link inside it resolves,
// and what they list (server variables, commands, scripts) is what the code has.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMAND_NAMES, USAGE } from "../../src/commands/command.ts";
import { serverEnvSchema } from "../../src/config/server-env.ts";

const pages = ["README.md", ...readdirSync("docs").filter((file) => file.endsWith(".md")).map((file) => join("docs", file))];
const readme = readFileSync("README.md", "utf8");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

describe("README and docs/", () => {
  it.each(pages)("%s links only to files and headings inside the repository", (page) => {
    const text = readFileSync(page, "utf8");
    for (const [, target = ""] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^https?:\/\//.test(target)) continue;
      const [path = "", hash] = target.split("#");
      const file = path === "" ? page : normalize(join(dirname(page), path));
      expect(file.startsWith(".."), `${page} links outside the repository: ${target}`).toBe(false);
      expect(existsSync(file), `${page} links to a missing ${file}`).toBe(true);
      if (hash && file.endsWith(".md")) {
        const headings = [...readFileSync(file, "utf8").matchAll(/^#{1,6} (.+)$/gm)].map(([, heading = ""]) => anchor(heading));
        expect(headings, `${page} links to a missing heading ${target}`).toContain(hash);
      }
    }
  });

  it("lists every server variable in the README's table and in .env.example", () => {
    const example = readFileSync(".env.example", "utf8");
    const firstCells = readme.split("\n").filter((line) => line.startsWith("| ")).map((line) => line.split(" | ")[0]!);
    for (const name of Object.keys(serverEnvSchema.shape)) {
      expect(firstCells.some((cell) => cell.includes(`\`${name}\``)), name).toBe(true);
      expect(example, name).toMatch(new RegExp(`^${name}=`, "m"));
    }
  });

  it("has a row for every command, each with its options", () => {
    for (const name of COMMAND_NAMES) {
      const row = readme.split("\n").find((line) => line.startsWith("| ") && line.includes(`\`/${name}`));
      expect(row, `/${name}`).toBeDefined();
      // The row names the command's options as its usage does (`--sha`, `--id`, `--reason` …).
      for (const option of USAGE[name].match(/--[a-z-]+/g) ?? []) expect(row, `/${name} ${option}`).toContain(option);
    }
  });

  it("documents every npm script", () => {
    const scripts = Object.keys((JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts);
    for (const script of scripts) expect(readme, script).toContain(script === "start" || script === "test" ? `npm ${script}` : `npm run ${script}`);
  });
});
