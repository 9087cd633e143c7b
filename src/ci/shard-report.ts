import { z } from "zod";

/**
 * What passes between Gantry and the shard runner: the job Gantry hands out, and the report the
 * runner sends back. Both sides parse with these schemas; a report that does not fit is refused.
 */
export const shardJobSchema = z.object({
  command: z.string(),
  junit: z.string(),
  files: z.array(z.string()),
  install: z.string().optional(),
  lockfiles: z.array(z.string()),
  cachePaths: z.array(z.string()),
  retries: z.number().int().min(0),
});
export type ShardJob = z.infer<typeof shardJobSchema>;

const testRef = { file: z.string().max(1024), name: z.string().max(2048) };

export const shardReportSchema = z.object({
  passed: z.number().int().min(0),
  skipped: z.number().int().min(0),
  failures: z.array(z.object({ ...testRef, line: z.number().int().positive().optional(), message: z.string().max(8192) })).max(1000),
  /** Failed, then passed when run again on the same commit. */
  flaky: z.array(z.object(testRef)).max(1000),
  files: z.array(z.object({ path: z.string().max(1024), durationMs: z.number().min(0) })).max(10_000),
  durationMs: z.number().min(0),
  exitCode: z.number().int(),
  /** The runner could not run the tests (no source, no JUnit report): the shard fails with this. */
  error: z.string().max(2000).optional(),
});
export type ShardReport = z.infer<typeof shardReportSchema>;

/** A report as Gantry keeps it: failures of quarantined tests are set apart and do not fail the shard. */
export const storedResultSchema = shardReportSchema.extend({
  quarantined: shardReportSchema.shape.failures.default([]),
});
export type StoredResult = z.infer<typeof storedResultSchema>;
