import type { Context } from "probot";
import { z } from "zod";
import { cutText } from "../log/bounded-log.ts";

/** How much of a validation failure is kept: the first few problems are enough to tell what is wrong. */
const MAX_ISSUES = 5;
const MAX_REASON_CHARS = 1_000;

/**
 * A delivery whose payload lacks, or mistypes, a field a handler uses. Retrying cannot cure it, so
 * the inbox marks the delivery dead at its first attempt with this message as the reason.
 */
export class InvalidPayloadError extends Error {
  override name = "InvalidPayloadError";
}

/** The invalid-payload error behind a handler failure, as Probot reports it (one error, or an AggregateError of them). */
export function invalidPayloadIn(error: unknown): InvalidPayloadError | undefined {
  if (error instanceof InvalidPayloadError) return error;
  if (error instanceof AggregateError) return error.errors.map(invalidPayloadIn).find((found) => found !== undefined);
  return undefined;
}

/**
 * Checks, at a handler's edge, the fields it is about to use; returns them typed. Never quotes the
 * payload's values: only the paths and what was expected.
 */
export function payloadFields<Schema extends z.ZodType>(schema: Schema, context: Pick<Context, "name" | "payload">): z.infer<Schema> {
  const result = schema.safeParse(context.payload);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, MAX_ISSUES).map((issue) => `${issue.path.join(".") || "(payload)"}: ${issue.code}${"expected" in issue ? ` (expected ${String(issue.expected)})` : ""}`);
  const more = result.error.issues.length > MAX_ISSUES ? `; and ${result.error.issues.length - MAX_ISSUES} more` : "";
  throw new InvalidPayloadError(cutText(`${context.name} payload does not have the fields Gantry uses: ${problems.join("; ")}${more}`, MAX_REASON_CHARS));
}

/** What Probot reads of every payload before any handler runs: the installation to authenticate as. */
const envelopeFields = z.object({ installation: z.object({ id: z.number().int().positive() }).optional() });

/**
 * A stored delivery as Probot receives it. A body that no longer parses (too deeply nested for this
 * runtime) or names an installation Probot cannot authenticate as fails the same way every time.
 */
export function receivedEvent(delivery: { id: string; event: string; payload: string }): { id: string; name: string; payload: unknown } {
  let payload: unknown;
  try {
    payload = JSON.parse(delivery.payload);
  } catch (error) {
    throw new InvalidPayloadError(`${delivery.event} payload cannot be read: ${cutText(error instanceof Error ? error.message : String(error), 200)}`);
  }
  payloadFields(envelopeFields, { name: delivery.event as never, payload: payload as never });
  return { id: delivery.id, name: delivery.event, payload };
}
