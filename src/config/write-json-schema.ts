import { writeFileSync } from "node:fs";
import { z } from "zod";
import { repoConfigSchema } from "./repo-config.ts";

/** Writes the JSON Schema editors use to complete `.github/gantry.yml` (run: npm run schema:config). */
export function repoConfigJsonSchema(): object {
  return {
    ...z.toJSONSchema(repoConfigSchema, { io: "input", unrepresentable: "any" }),
    title: "Gantry repository configuration (.github/gantry.yml)",
  };
}

export const JSON_SCHEMA_PATH = new URL("../../schema/gantry.schema.json", import.meta.url);

if (import.meta.main) {
  writeFileSync(JSON_SCHEMA_PATH, `${JSON.stringify(repoConfigJsonSchema(), null, 2)}\n`);
  console.log(`wrote ${JSON_SCHEMA_PATH.pathname}`);
}
