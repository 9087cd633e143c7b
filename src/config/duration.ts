import { z } from "zod";

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** A human duration such as `30s`, `5m`, `1.5h`, or `250ms`, parsed to milliseconds. */
export const duration = z
  .string()
  .regex(DURATION, 'use a number and a unit: "250ms", "30s", "5m" or "1h"')
  .transform((text) => {
    const [, amount, unit] = DURATION.exec(text) as RegExpExecArray;
    return Math.round(Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]);
  });
