import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { repoConfigSchema } from "../../src/config/repo-config.ts";

// ajv-formats is CommonJS with `exports.default`; under nodenext its default import is the module.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const EXAMPLE = ".github/gantry.example.yml";
const source = readFileSync(EXAMPLE, "utf8");

describe("the example .github/gantry.yml", () => {
  it("names the JSON Schema for editors on its first line, and that file exists", () => {
    const schemaPath = /^# yaml-language-server: \$schema=(\S+)$/.exec(source.split("\n")[0]!)?.[1];
    expect(schemaPath).toBeDefined();
    expect(existsSync(join(dirname(EXAMPLE), schemaPath!))).toBe(true);
  });

  it("is valid against the JSON Schema editors use", () => {
    const schema = JSON.parse(readFileSync("schema/gantry.schema.json", "utf8")) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    // zod writes `startsWith` as this format beside the equivalent pattern, which ajv checks.
    ajv.addFormat("starts_with", true);
    const validate = ajv.compile(schema);
    expect(validate(parse(source)), JSON.stringify(validate.errors)).toBe(true);
  });

  it("is a configuration Gantry accepts, with both environments", () => {
    const parsed = repoConfigSchema.safeParse(parse(source));
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(Object.keys(parsed.data!.environments)).toEqual(["staging", "production"]);
  });
});
