import type { ProbotOctokit } from "probot";

/** An installation-authenticated Octokit, as Probot hands to handlers. */
export type Octokit = InstanceType<typeof ProbotOctokit>;
