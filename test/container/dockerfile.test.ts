// No Docker on the test machines: the Dockerfile's shape is checked instead, with what a build
// would depend on (runtime imports only from runtime dependencies, the same Node as the project).
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GANTRY_NODE_OPTIONS } from "../support/gantry-command.ts";

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions per stage, line continuations joined, comments dropped. */
function stages(dockerfile: string): { from: string; name: string | undefined; instructions: Instruction[] }[] {
  const lines = dockerfile.replace(/\\\n/g, " ").split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
  const args = new Map<string, string>();
  const result: { from: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const line of lines) {
    const [, keyword = "", rest = ""] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (keyword === "ARG" && result.length === 0) {
      const [name, value = ""] = rest.split("=");
      args.set(name!, value);
    } else if (keyword === "FROM") {
      const [image = "", , name] = rest.replace(/\$\{(\w+)\}/g, (_, arg: string) => args.get(arg) ?? "").split(/\s+/);
      result.push({ from: image, name, instructions: [] });
    } else {
      result.at(-1)?.instructions.push({ keyword, args: rest });
    }
  }
  return result;
}

const dockerfile = readFileSync("Dockerfile", "utf8");
const all = stages(dockerfile);
const final = all.at(-1)!;
const finalOf = (keyword: string) => final.instructions.filter((instruction) => instruction.keyword === keyword);
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

describe("Dockerfile", () => {
  it("builds in two stages on the project's Node 24, installing only runtime dependencies from the lock file", () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const stage of all) expect(stage.from).toBe(`node:${pkg.devDependencies.node}-bookworm-slim`);
    expect(pkg.devDependencies.node).toMatch(/^24\./);
    const install = all[0]!.instructions.find((instruction) => instruction.keyword === "RUN" && instruction.args.includes("npm ci"));
    expect(install?.args).toMatch(/npm ci --omit=dev/);
    // The image gets the installed modules from that stage, and no npm install of its own.
    expect(finalOf("COPY").some((copy) => copy.args === `--from=${all[0]!.name} /app/node_modules ./node_modules`)).toBe(true);
    expect(finalOf("RUN").every((run) => !/npm (ci|install)/.test(run.args))).toBe(true);
  });

  it("runs `node src/main.ts` directly, with Gantry's V8 options, as a user who is not root, with a health check on /healthz", () => {
    const user = finalOf("USER");
    expect(user).toHaveLength(1);
    expect(user[0]!.args).not.toMatch(/^(root|0)(:|$)/);
    const order = final.instructions.map((instruction) => instruction.keyword);
    expect(order.indexOf("USER")).toBeLessThan(order.indexOf("CMD"));
    // Exec form: node is PID 1 and gets SIGTERM itself (no shell, no npm in between).
    expect(JSON.parse(finalOf("CMD")[0]!.args)).toEqual(["node", ...GANTRY_NODE_OPTIONS, "src/main.ts"]);
    // `npm start` runs it the same way.
    const start = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts.start;
    expect(start).toBe(["exec", "node", ...GANTRY_NODE_OPTIONS, "src/main.ts"].join(" "));
    expect(finalOf("ENTRYPOINT")).toEqual([]);
    expect(finalOf("HEALTHCHECK")[0]?.args).toMatch(/--interval=\S+ .*CMD .*\/healthz/);
    expect(finalOf("ENV")[0]?.args).toMatch(/HOST=0\.0\.0\.0/);
  });

  it("copies only what runs, all of it let through by .dockerignore", () => {
    const ignored = readFileSync(".dockerignore", "utf8").split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
    const sources = finalOf("COPY").filter((copy) => !copy.args.startsWith("--from")).flatMap((copy) => copy.args.split(/\s+/).slice(0, -1));
    expect(sources.toSorted()).toEqual(["app.yml", "package.json", "src"]);
    for (const source of [...sources, "package-lock.json"]) expect(ignored, source).not.toContain(source);
    for (const left of ["node_modules", "test", "data", ".env", "*.pem"]) expect(ignored).toContain(left);
  });

  it("needs nothing at run time that `npm ci --omit=dev` leaves out: src imports only dependencies and Node's own modules", () => {
    const files = readdirSync("src", { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts"));
    const imported = new Set<string>();
    for (const file of files) {
      for (const [, specifier = ""] of readFileSync(join("src", file), "utf8").matchAll(/(?:from|import)\s*\(?\s*"([^".][^"]*)"/g)) {
        if (specifier.startsWith("node:") || builtinModules.includes(specifier)) continue;
        imported.add(specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    for (const name of imported) expect(Object.keys(pkg.dependencies), `${name} is imported by src/`).toContain(name);
  });
});
