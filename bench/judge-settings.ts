import type { AnalysisSettings } from "../src/analysis/judge.ts";
import { repoConfigSchema } from "../src/config/repo-config.ts";

/** The defaults a repository gets, as `.github/gantry.yml` would parse them. */
export const DEFAULT_SETTINGS: AnalysisSettings = repoConfigSchema.parse({
  environments: {
    e: {
      aws: { region: "us-east-1", roleArn: "arn:aws:iam::123456789012:role/gantry-bench" },
      ecs: { cluster: "c", services: { blue: "b", green: "g" } },
      targetGroups: { blue: "arn:aws:elasticloadbalancing:x", green: "arn:aws:elasticloadbalancing:y" },
      listeners: { production: "arn:aws:elasticloadbalancing:z" },
    },
  },
}).environments.e!.analysis;
