import type { Generated } from "kysely";

/** Table shapes as both backends store them. Times are epoch milliseconds. */
export interface Database {
  webhook_deliveries: WebhookDeliveryTable;
  deployments: DeploymentTable;
  environment_locks: EnvironmentLockTable;
  command_records: CommandRecordTable;
  audit_log: AuditLogTable;
  deployment_notifications: DeploymentNotificationTable;
  replicas: ReplicaTable;
  environment_drift: EnvironmentDriftTable;
  github_outbox: GitHubOutboxTable;
  github_outbox_changes: GitHubOutboxChangeTable;
  github_installations: GitHubInstallationTable;
  github_writes: GitHubWriteTable;
  ci_runs: CiRunTable;
  ci_shards: CiShardTable;
  ci_file_timings: CiFileTimingTable;
  ci_flaky_tests: CiFlakyTestTable;
  slack_identities: SlackIdentityTable;
  slack_link_requests: SlackLinkRequestTable;
  slack_messages: SlackMessageTable;
  image_builds: ImageBuildTable;
  refusal_replies: RefusalReplyTable;
}

export type DeliveryStatus = "pending" | "done" | "dead";

export interface WebhookDeliveryTable {
  /** `X-GitHub-Delivery`: a redelivery carries the same id. */
  id: string;
  event: string;
  payload: string;
  /** Claimed before any lower one that is due: 1 for a command that moves traffic back (see src/commands/urgency.ts). */
  priority: Generated<number>;
  received_at: number;
  status: DeliveryStatus;
  attempts: Generated<number>;
  /** When the delivery may next be claimed; while claimed it is the lease expiry. */
  next_attempt_at: number;
  claim_token: string | null;
  last_error: string | null;
  processed_at: number | null;
}

export type CommandStep = "received" | "decided" | "acted" | "replied";

/** One comment command, keyed by its comment id, as it moves received → decided → acted → replied. */
export interface CommandRecordTable {
  comment_id: number;
  /** `owner/repo`. */
  repository: string;
  step: CommandStep;
  /** JSON of what the gates decided (src/commands/command-records.ts), once decided. */
  decision: string | null;
  /** JSON of the outcome to audit and reply, once acted. */
  outcome: string | null;
  /** The replica working on the command; another may resume it once `lease_until` has passed. */
  lease_owner: string | null;
  lease_until: Generated<number>;
  received_at: number;
  updated_at: number;
}

/** `detected`: something Gantry found by itself (drift), not a person's command. */
export type AuditDecision = "accepted" | "queued" | "refused" | "invalid" | "failed" | "detected";

/** Every command: who, where, what was decided and why. */
export interface AuditLogTable {
  id: string;
  at: number;
  repository: string;
  issue_number: number | null;
  comment_id: number | null;
  actor: string;
  /** The command line as typed. */
  command: string;
  environment: string | null;
  decision: AuditDecision;
  /** The authorisation gate that refused, if one did. */
  gate: string | null;
  reason: string;
}

/** The GitHub objects Gantry keeps up to date for one deployment (keyed by the controller's id). */
export interface DeploymentNotificationTable {
  deployment_id: string;
  owner: string;
  repo: string;
  installation_id: number;
  environment: string;
  sha: string;
  /** Where the status comment goes: the issue or pull request the command came from. */
  issue_number: number | null;
  /** The comment holding the command, for the 🚀 / 👎 reaction at the end. */
  command_comment_id: number | null;
  github_deployment_id: number | null;
  /** The last GitHub Deployment status posted. */
  deployment_state: string | null;
  status_comment_id: number | null;
  /** The status comment as last written, so an unchanged view costs no request. */
  status_comment_body: string | null;
  check_run_id: number | null;
  check_run_url: string | null;
  /** The check run's state and output as last sent, for the same reason. */
  check_run_output: string | null;
  reacted_at: number | null;
  /** The reaction Gantry put on the command, so a rollback after 🚀 can take it back. */
  reaction_id: number | null;
  reaction_content: string | null;
  /** `updatedAt` of the last view applied: an older or repeated view is skipped. */
  view_updated_at: number | null;
  created_at: number;
  /** When the status comment and check run were last written for progress alone (no milestone). */
  progress_written_at: number | null;
  /** Phase, step, weights and decisions as last written: a change of these is written at once. */
  milestone: string | null;
}

export interface DeploymentTable {
  id: string;
  owner: string;
  repo: string;
  installation_id: number;
  environment: string;
  sha: string;
  phase: string;
  requested_by: string;
  pull_request: number | null;
  /** JSON of `DeploymentState` (src/deploy/deployment-state.ts), validated on read. */
  state: string;
  /** JSON of a `PendingAction` a person asked for; the next tick consumes it. */
  pending_action: string | null;
  next_tick_at: number;
  lease_owner: string | null;
  lease_until: Generated<number>;
  /** Incremented at every claim: a write carrying an older fence comes from a replica that lost its lease. */
  fence: Generated<number>;
  /** When an ended deployment's final weights are read back (and repaired); null once done. */
  final_check_at: number | null;
  created_at: number;
  updated_at: number;
  /** The comment command that created the deployment (`comment:<id>`), so a retried command finds it. */
  idempotency_key: Generated<string | null>;
  /** JSON `Approval[]` collected so far; written by the API only (compare-and-set), never by a tick. */
  approvals: Generated<string | null>;
  /** For a cooling deployment: who may act on the colour it left (see migration 0018); null while nobody has. */
  old_colour: Generated<OldColourHolder | null>;
}

export type OldColourHolder = "held" | "handed-over";

export interface EnvironmentLockTable {
  owner: string;
  repo: string;
  environment: string;
  kind: "deploy" | "sticky";
  holder: string;
  deployment_id: string | null;
  reason: string | null;
  pull_request: number | null;
  since: number;
}

/** A controller replica's liveness: a claim takes the leases of a replica whose heartbeat is stale. */
export interface ReplicaTable {
  instance_id: string;
  heartbeat_at: number;
  started_at: number;
}

/** One row per environment: the latest drift found there, open until resolved. */
export interface EnvironmentDriftTable {
  owner: string;
  repo: string;
  environment: string;
  /** The deployment whose weights Gantry last set in the environment. */
  deployment_id: string;
  /** JSON `Weights`: what Gantry set. */
  expected: string;
  /** JSON `Weights`: the latest differing reading. */
  observed: string;
  detected_at: number;
  observed_at: number;
  /** `acknowledged` or `forced`; null while the drift is open. */
  resolution: "acknowledged" | "forced" | null;
  resolved_by: string | null;
  resolved_at: number | null;
  note: string | null;
}

/**
 * `deployment`: a deployment's GitHub objects; `command`: the reactions and reply to one comment
 * command; `ci-run`: a test run's check runs; `slack`: a Slack message (a deployment's, or a failing
 * test run's); `image`: a build's `gantry/image` check run.
 */
export type OutboxKind = "deployment" | "command" | "ci-run" | "slack" | "image";

/** An installation GitHub told to wait (Retry-After, or its primary limit spent): no replica writes for it before `blocked_until`. */
export interface GitHubInstallationTable {
  installation_id: number;
  blocked_until: number;
  reason: string | null;
}

/**
 * One write sent to an installation, numbered in order per installation; kept for the longest window
 * (the newest always, so the numbering goes on). See src/notify/installation-pacer.ts.
 */
export interface GitHubWriteTable {
  installation_id: number;
  seq: number;
  sent_at: number;
  /** When the installation's next write may go, given its windows as this write left them. */
  next_at: number;
}

/** A subject of writes to GitHub (a deployment's objects), claimed by one replica at a time with a lease. */
export interface GitHubOutboxTable {
  /** e.g. `deployment:<id>`. */
  subject: string;
  installation_id: number;
  kind: OutboxKind;
  /** Highest priority among its pending changes: traffic-moved news goes first. */
  priority: number;
  /** When it may next be claimed: now, a backoff or GitHub's Retry-After, or while claimed the lease expiry. */
  next_attempt_at: number;
  claim_token: string | null;
  lease_owner: string | null;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: number;
}

/** One recorded change of a subject; a drain sends the changes pending at its claim, merged, then deletes them. */
export interface GitHubOutboxChangeTable {
  seq: Generated<number>;
  subject: string;
  priority: number;
  /** JSON, validated on read. */
  payload: string;
  recorded_at: number;
}

export type CiRunStatus = "running" | "completed" | "cancelled";
export type CiShardStatus = "queued" | "running" | "passed" | "failed" | "cancelled";

/** One test run of a pushed commit (src/ci). */
export interface CiRunTable {
  id: string;
  installation_id: number;
  owner: string;
  repo: string;
  repository_id: number;
  branch: string;
  sha: string;
  /** 1 on the repository's default branch: its shards go first, and its timings weigh later plans. */
  default_branch: number;
  status: CiRunStatus;
  conclusion: string | null;
  /** JSON of the run's settings from the commit's `.github/gantry.yml` (src/ci/run-settings.ts). */
  settings: string;
  summary_check_run_id: number | null;
  /** The `gantry/test` state as last sent, so an unchanged one costs no request. */
  summary_sent: string | null;
  /** GitHub writes made for the run, and how many it may make (2n + 4 for n shards, more per re-run). */
  github_writes: Generated<number>;
  write_budget: number;
  created_at: number;
  updated_at: number;
}

/** One shard of a run: its files are fixed at planning, so a re-run runs the same ones. */
export interface CiShardTable {
  id: string;
  run_id: string;
  shard_index: number;
  shard_total: number;
  /** JSON array of paths. */
  files: string;
  status: CiShardStatus;
  /** Bumped at each re-run: a callback token is signed for one attempt. */
  attempt: number;
  /** Default-branch shards go ahead when executors are saturated. */
  priority: number;
  queued_at: number;
  executor: string | null;
  /** The executor's id of the running shard (a process id, a task ARN). */
  handle: string | null;
  /** The replica that started it. */
  owner: string | null;
  started_at: number | null;
  finished_at: number | null;
  /** JSON of the runner's report (src/ci/shard-report.ts), once in. */
  result: string | null;
  check_run_id: number | null;
  check_sent: string | null;
}

export interface CiFileTimingTable {
  repository_id: number;
  path: string;
  duration_ms: number;
  recorded_at: number;
}

export interface CiFlakyTestTable {
  repository_id: number;
  /** `path::test name`. */
  test_id: string;
  sha: string;
  recorded_at: number;
}

/** A Slack user linked to a GitHub user through GitHub's user authorisation (`/gantry link`). */
export interface SlackIdentityTable {
  slack_user_id: string;
  slack_team_id: string;
  github_login: string;
  github_id: number;
  linked_at: number;
}

/** A one-time `/gantry link` URL: stored by the hash of its token, used once, within minutes. */
export interface SlackLinkRequestTable {
  token_hash: string;
  slack_user_id: string;
  slack_team_id: string;
  slack_user_name: string;
  expires_at: number;
  /** The GitHub user who authorised the app, before they confirm the link. */
  github_login: string | null;
  github_id: number | null;
  used_at: number | null;
  created_at: number;
}

/** The Slack message Gantry keeps for a subject (`deployment:<id>`, `test:<repo>@<sha>`): posted once, then updated. */
export interface SlackMessageTable {
  subject: string;
  channel: string;
  ts: string;
  /** The message as last sent (JSON of text and blocks), so an unchanged one costs no call. */
  body: string;
  /** `updatedAt` of the last deployment view sent: an older view is skipped. */
  view_updated_at: number | null;
  posted_at: number;
}

/** `requested`: waiting for a builder; `building`: started, followed by whichever replica claims it. */
export type ImageBuildStatus = "requested" | "building" | "succeeded" | "failed";

/** The one image of a commit in an ECR repository: its build lock, how to follow its build, and what it made. */
export interface ImageBuildTable {
  /** Also the builder's idempotency token: a StartBuild repeated after a crash starts nothing new. */
  id: string;
  ecr_repository: string;
  sha: string;
  owner: string;
  repo: string;
  repository_id: number;
  installation_id: number;
  dockerfile: string;
  context: string;
  status: ImageBuildStatus;
  /** `codebuild`, `local`, or `existing` when ECR already held the tag. */
  builder: string | null;
  /** JSON `BuildRef` (src/images/image-builder.ts): what a restarted Gantry follows. */
  build_ref: string | null;
  /** `sha256:…` of the manifest, once built. */
  digest: string | null;
  /** Why it failed, in words fit for a check run; or the last error while it is retried. */
  reason: string | null;
  /** Consecutive failed steps (an AWS error, say); reset by a successful one. */
  failures: Generated<number>;
  requested_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** When it is next looked at; while claimed, the claim's expiry. */
  next_check_at: number;
  claim_token: string | null;
  lease_owner: string | null;
  check_run_id: number | null;
  /** The check run's state and output as last sent: an unchanged one costs no request. */
  check_run_sent: string | null;
}

/** One of a user's reply slots for refused commands in one repository (src/commands/refusal-limit.ts). */
export interface RefusalReplyTable {
  /** `owner/repo/login`, lower case. */
  key: string;
  slot: number;
  replied_at: number;
  kind: "refused" | "invalid";
}
