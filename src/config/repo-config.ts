import { z } from "zod";
import { buildPathProblem } from "../images/build-paths.ts";
import { duration } from "./duration.ts";

/** `.github/gantry.yml`. Unknown keys are errors so that a typo is reported, not silently ignored. */

const arn = (service: string) =>
  z.string().regex(new RegExp(`^arn:aws[a-z-]*:${service}:`), `must be an ARN (arn:aws:${service}:...)`);

const buildPath = z.string().superRefine((path, ctx) => {
  const problem = buildPathProblem(path);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const githubLogin = z.string().regex(/^[A-Za-z0-9-]+(\[bot\])?$/, "must be a GitHub login");
const teamSlug = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be "org/team-slug"');

/** `arn:<partition>:iam::<12-digit account>:role/<path/name>`; the account is read from it. */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

/**
 * Where AWS is and which identity reaches it are the Gantry server's (AWS_ENDPOINT_URL, its own
 * credentials); a repository only names the role it may be given, which must trust it by its id.
 */
const awsSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as us-east-1"),
  /** Assumed with STS, ExternalId = the repository's numeric id; every AWS call of the environment uses its session. */
  roleArn: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? "is required: name the IAM role Gantry assumes for this environment (arn:aws:iam::ACCOUNT:role/NAME), whose trust policy requires sts:ExternalId = this repository's numeric id"
          : undefined,
    })
    .regex(ROLE_ARN, "must be an IAM role ARN: arn:aws:iam::<12-digit account id>:role/<name>"),
});

/** Settings a repository may no longer make, with what to do instead. */
export const RETIRED_SETTINGS: Readonly<Record<string, string>> = {
  "aws.endpoint":
    "the AWS endpoint is the Gantry server's setting (AWS_ENDPOINT_URL), never a repository's: remove this line",
};

const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, "must be a host name such as app.example.com (no scheme, port or path)");

const smokeCheckSchema = z.strictObject({
  path: z.string().startsWith("/", 'must start with "/"'),
  expectStatus: z.number().int().min(100).max(599).default(200),
  timeout: duration.prefault("5s"),
  /**
   * The name the service answers to: sent as the Host header and the TLS server name, and the name
   * the certificate must cover. The request still goes to the test listener's own address.
   */
  host: hostname.optional(),
  /**
   * A response header carrying the commit the answering task was built from (e.g. `x-version`, set
   * from a build argument). The check then retries until the answer comes from the commit being
   * deployed, so a listener still routing by its previous configuration cannot pass it.
   */
  versionHeader: z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "must be an HTTP header name, e.g. x-version")
    .transform((name) => name.toLowerCase())
    .optional(),
  /** With `versionHeader`: how long the listener may keep answering from another version before the check fails. */
  versionWait: duration.prefault("60s"),
});

const canaryStepSchema = z.strictObject({
  weight: z.number().int().min(1).max(100),
  bake: duration,
});

const strategySchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("blue-green"),
    bake: duration.prefault("5m"),
  }),
  z.strictObject({
    type: z.literal("canary"),
    steps: z
      .array(canaryStepSchema)
      .min(1)
      .refine((steps) => steps.every((step, i) => i === 0 || step.weight > steps[i - 1]!.weight), {
        message: "step weights must increase",
      })
      .refine((steps) => steps.at(-1)?.weight === 100, { message: "the last step must reach weight 100" }),
  }),
]);

const analysisSchema = z.strictObject({
  /** Time between two looks of the judge. */
  interval: duration.prefault("1m"),
  /**
   * CloudWatch publishes a minute late: every window ends this long before now, so the judge never
   * reads a minute that is still filling. 0 only where metrics are immediate (the local world).
   */
  metricsDelay: duration.prefault("60s"),
  /** Canary requests answered over the deployment so far before a step may pass; fewer extends the bake. */
  minRequests: z.number().int().positive().default(100),
  /** Largest canary failure rate tolerated as a multiple of the control's (relative tolerance). */
  maxErrorRatio: z.number().min(1).default(1.5),
  /** Excess failure rate (canary minus control) never worth a rollback, e.g. 0.001 = 0.1 points (absolute tolerance). */
  maxErrorIncrease: z.number().min(0).max(1).default(0.001),
  /** Largest probability of rolling back a version no worse than tolerated, over every look of one deployment. */
  falseRollbackBudget: z.number().gt(0).max(0.2).default(0.005),
  /** Absolute p99 latency bound for the canary, if any. */
  maxP99Latency: duration.optional(),
  /** Largest tolerated ratio of canary to control latency (canary p99 vs control p99; canary median vs control p99). */
  maxP99Ratio: z.number().positive().default(1.5),
  /** A slowdown smaller than this never fails, whatever the ratio: 8 ms vs 5 ms is noise, not a regression. */
  minP99Increase: duration.prefault("50ms"),
  /** Bakes extended by one interval for want of canary traffic before the deployment asks a person. */
  maxExtensions: z.number().int().min(0).default(3),
});

const accessSchema = z.strictObject({
  permission: z.enum(["write", "maintain", "admin"]).default("write"),
  users: z.array(githubLogin).default([]),
  teams: z.array(teamSlug).default([]),
});

/**
 * A check every deploy needs. A check run counts only from the app named (any app when none is);
 * a commit status, which anyone with write access can post, counts only with `status: true`.
 */
const requiredCheckSchema = z.union([
  z.string().min(1),
  z
    .strictObject({
      name: z.string().min(1),
      /** The GitHub App that must create the check run: its slug (e.g. github-actions) or numeric id. */
      app: z.union([z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be a GitHub App slug such as github-actions"), z.number().int().positive()]).optional(),
      status: z.boolean().default(false),
    })
    .refine((check) => check.name !== "gantry/test" || (check.app === undefined && !check.status), {
      message: "gantry/test counts only from Gantry itself: remove app and status",
    }),
]);
export type RequiredCheck = z.infer<typeof requiredCheckSchema>;

const branchGlob = z.string().min(1).max(255).regex(/^[^\s~^:\\]+$/, "must be a branch name or a glob such as release/*");

/**
 * Test shards (src/ci). Runs only when `tests` names the test files. The command runs in the
 * operator's executor (local processes or ECS tasks), never with Gantry's own credentials.
 */
const ciSchema = z
  .strictObject({
    /** Runs with the shard's test files appended as arguments, and must write JUnit XML to `junit`. */
    command: z.string().min(1).max(4096).default("npm test"),
    /** Glob of the test files, relative to the repository root, e.g. `test/**\/*.test.ts`; unset: no test shards. */
    tests: z.string().min(1).max(1024).optional(),
    /** Where the command writes its JUnit XML report(s): a file or a glob. */
    junit: z.string().min(1).max(1024).default("junit.xml"),
    /** A fixed number of shards, or `auto`: enough to reach `targetWallTime`, at most `maxShards`. */
    shards: z.union([z.number().int().min(1).max(256), z.literal("auto")]).default(1),
    targetWallTime: duration.prefault("5m"),
    maxShards: z.number().int().min(1).max(256).default(16),
    /** Weight of a test file with no history on the default branch (default: the median of known files). */
    newFileDuration: duration.optional(),
    /** Branches whose pushes may start a run (globs); a branch other than the default also needs an open pull request. */
    branches: z.array(branchGlob).max(100).default(["**"]),
    /** Installs dependencies before the tests, once per lockfile hash (the cache keeps `cachePaths`). */
    install: z.string().min(1).max(4096).optional(),
    lockfiles: z.array(z.string().min(1).max(1024)).max(10).default(["package-lock.json"]),
    cachePaths: z.array(z.string().min(1).max(1024)).max(10).default(["node_modules"]),
    /** Each failing test file runs again this many times; a test that fails then passes is flaky. */
    retries: z.number().int().min(0).max(3).default(1),
    /** Tests flaky on at least this many commits run and are reported, but do not block; unset: none are quarantined. */
    quarantineAfter: z.number().int().min(1).max(1000).optional(),
    timeout: duration.prefault("30m"),
    requiredChecks: z.array(requiredCheckSchema).default([]),
  });
export type CiConfig = z.output<typeof ciSchema>;

const environmentSchema = z.strictObject({
  aws: awsSchema,
  ecs: z.strictObject({
    cluster: z.string().min(1),
    services: z.strictObject({ blue: z.string().min(1), green: z.string().min(1) }),
  }),
  targetGroups: z.strictObject({ blue: arn("elasticloadbalancing"), green: arn("elasticloadbalancing") }),
  listeners: z.strictObject({
    /** A listener ARN, or a listener rule ARN when the service shares a listener. */
    production: arn("elasticloadbalancing"),
    test: arn("elasticloadbalancing").optional(),
  }),
  smoke: z.array(smokeCheckSchema).default([]),
  strategy: strategySchema.prefault({ type: "blue-green" }),
  analysis: analysisSchema.prefault({}),
  keepWarm: duration.prefault("30m"),
  postPromotionWatch: duration.prefault("5m"),
  deployers: accessSchema.prefault({}),
  approval: z
    .strictObject({
      required: z.boolean().default(false),
      /** Who may approve, by GitHub login or team; empty: anyone who may deploy (never the requester). */
      users: z.array(githubLogin).default([]),
      teams: z.array(teamSlug).default([]),
      /** Distinct people who must approve. */
      count: z.number().int().min(1).max(10).default(1),
      /** A deployment that waits longer for its approvals is cancelled and the environment let go. */
      timeout: duration.prefault("24h"),
    })
    .prefault({}),
  /** Where this environment's deployment messages go; default: the top-level `slack.channel`. */
  slack: z.strictObject({ channel: z.string().min(1) }).optional(),
  /** Environments that must already run the same commit (enforced order). */
  requires: z.array(z.string()).default([]),
  /** Pull-request gates for deploys to this environment. */
  gates: z
    .strictObject({
      checksGreen: z.boolean().default(true),
      approvedReview: z.boolean().default(false),
      upToDate: z.boolean().default(false),
    })
    .prefault({}),
});

export const repoConfigSchema = z
  .strictObject({
    defaultEnvironment: z.string().optional(),
    ci: ciSchema.prefault({}),
    build: z
      .strictObject({
        repository: z.string().regex(/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/, "must be an ECR repository name"),
        /** Both inside the repository: the builder runs with the operator's identity, never the repository's. */
        dockerfile: buildPath.default("Dockerfile"),
        context: buildPath.default("."),
      })
      .optional(),
    environments: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "environment names are lower-case words"), environmentSchema),
    slack: z.strictObject({ channel: z.string().min(1) }).optional(),
  })
  .superRefine((config, ctx) => {
    const names = Object.keys(config.environments);
    if (config.defaultEnvironment !== undefined && !names.includes(config.defaultEnvironment)) {
      ctx.addIssue({
        code: "custom",
        path: ["defaultEnvironment"],
        message: `names no environment; the environments are: ${names.join(", ") || "(none)"}`,
      });
    }
    for (const [name, environment] of Object.entries(config.environments)) {
      environment.requires.forEach((required, index) => {
        if (!names.includes(required) || required === name) {
          ctx.addIssue({
            code: "custom",
            path: ["environments", name, "requires", index],
            message: `"${required}" is not another environment in this file`,
          });
        }
      });
    }
  });

export type RepoConfig = z.output<typeof repoConfigSchema>;
export type EnvironmentConfig = RepoConfig["environments"][string];

export const REPO_CONFIG_PATH = ".github/gantry.yml";

export function defaultEnvironmentName(config: RepoConfig): string | undefined {
  return config.defaultEnvironment ?? Object.keys(config.environments)[0];
}
