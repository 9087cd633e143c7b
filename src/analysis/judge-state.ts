import { z } from "zod";
import { judgedSampleSchema } from "../deploy/api.ts";

/**
 * What the judge carries from one look to the next within one deployment: the evidence of both
 * sequential tests (over the whole deployment, so one false-rollback budget covers every look), and
 * the current step's totals (for the verdicts people read).
 */
export const judgeStateSchema = z.object({
  /** Log likelihood ratios of the failure test (canary fails more often than tolerated). */
  failureEvidence: z.array(z.number()),
  /** Log likelihood ratios of the routing test (targets of the canary answer fewer requests than its weight sends it). */
  routingEvidence: z.array(z.number()),
  /** Canary requests answered without a 5xx over the whole deployment. */
  served: z.number().int().min(0),
  /** The step (or watch) the totals belong to, by its start; a new start resets them. */
  since: z.number(),
  /** End of the last judged window: the next window starts here. */
  judgedUntil: z.number(),
  canary: judgedSampleSchema,
  control: judgedSampleSchema,
  /** This step's canary answers in windows whose median was slower than the control's p99 with margin, and in all windows compared. */
  slowAnswers: z.number().int().min(0).default(0),
  /** Of those, answers in windows whose median was several times beyond that margin. */
  severelySlowAnswers: z.number().int().min(0).default(0),
  timedAnswers: z.number().int().min(0).default(0),
});
export type JudgeState = z.infer<typeof judgeStateSchema>;
