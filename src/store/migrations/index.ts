import type { Migration } from "kysely/migration";
import { webhookDeliveries } from "./0001-webhook-deliveries.ts";
import { deployments } from "./0002-deployments.ts";
import { chatOps } from "./0003-chatops.ts";
import { commandRecords } from "./0004-command-records.ts";
import { replicas } from "./0005-replicas.ts";
import { githubOutbox } from "./0006-github-outbox.ts";
import { environmentDrift } from "./0007-environment-drift.ts";
import { inboxRetention } from "./0008-inbox-retention.ts";
import { githubPacing } from "./0009-github-pacing.ts";
import { ciRuns } from "./0010-ci-runs.ts";
import { slack } from "./0013-slack.ts";
import { deploymentApprovals } from "./0014-deployment-approvals.ts";
import { imageBuilds } from "./0012-image-builds.ts";
import { inboxLanes } from "./0016-inbox-lanes.ts";
import { githubWriteWindows } from "./0017-github-write-windows.ts";
import { oldColourHandoff } from "./0018-old-colour-handoff.ts";

/**
 * Versioned migrations, applied in name order at start-up on both backends; one file each.
 * Never edit a shipped one: add the next number.
 */
export const migrations: Record<string, Migration> = {
  "0001_webhook_deliveries": webhookDeliveries,
  "0002_deployments": deployments,
  "0003_chatops": chatOps,
  "0004_command_records": commandRecords,
  "0005_replicas": replicas,
  "0006_github_outbox": githubOutbox,
  "0007_environment_drift": environmentDrift,
  "0008_inbox_retention": inboxRetention,
  "0009_github_pacing": githubPacing,
  "0010_ci_runs": ciRuns,
  "0013_slack": slack,
  "0014_deployment_approvals": deploymentApprovals,
  "0012_image_builds": imageBuilds,
  "0016_inbox_lanes": inboxLanes,
  "0017_github_write_windows": githubWriteWindows,
  "0018_old_colour_handoff": oldColourHandoff,
};
