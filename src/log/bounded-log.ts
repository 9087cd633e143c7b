import { pino, type DestinationStream, type Logger } from "pino";

/** No log line is longer than this: a line that would be is rewritten without its long parts. */
export const MAX_LOG_LINE_CHARS = 4_096;
/** Error messages and stacks can quote user text or whole payloads; they are cut to this. */
const MAX_ERROR_TEXT_CHARS = 1_000;
/** Inner errors of an AggregateError kept in a line. */
const MAX_INNER_ERRORS = 3;

/**
 * Gantry's logger. Errors are logged by name, message, stack, status and code only: Probot and
 * @octokit/webhooks attach the whole delivery to a handler's error (`error.event`), and an Octokit
 * error carries its request and response bodies, so the default serializer would write whole payloads.
 */
export function boundedLog(level: string, destination?: DestinationStream): Logger {
  const options = { level, name: "gantry", serializers: { err: boundedError }, hooks: { streamWrite: boundLine } };
  return destination ? pino(options, destination) : pino(options);
}

/** Cuts `text` to at most `max` characters, on a code point boundary, ending in "…" when cut. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

interface LoggedError {
  type: string;
  message: string;
  stack?: string;
  status?: number;
  code?: string;
  errors?: LoggedError[];
  cause?: LoggedError;
}

function boundedError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) return { type: typeof error, message: cutText(String(error), MAX_ERROR_TEXT_CHARS) };
  const logged: LoggedError = { type: error.name, message: cutText(error.message, MAX_ERROR_TEXT_CHARS) };
  if (depth === 0 && error.stack) logged.stack = cutText(error.stack, MAX_ERROR_TEXT_CHARS);
  const { status, code } = error as { status?: unknown; code?: unknown };
  if (typeof status === "number") logged.status = status;
  if (typeof code === "string") logged.code = cutText(code, 100);
  if (depth < 2 && error instanceof AggregateError) {
    logged.errors = (error.errors as unknown[]).slice(0, MAX_INNER_ERRORS).map((inner) => boundedError(inner, depth + 1));
  }
  if (depth < 2 && error.cause !== undefined) logged.cause = boundedError(error.cause, depth + 1);
  return logged;
}

/** pino's last step before writing: a line over the cap keeps its short fields and drops the rest. */
function boundLine(line: string): string {
  if (line.length <= MAX_LOG_LINE_CHARS) return line;
  const fields = JSON.parse(line) as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === "string") kept[key] = cutText(value, 300);
    else if (typeof value !== "object" || value === null) kept[key] = value;
  }
  const { err } = fields as { err?: { type?: unknown; message?: unknown } };
  if (err) kept.err = { type: err.type, message: cutText(String(err.message), 300) };
  kept.cut = `line of ${line.length} characters cut to fit ${MAX_LOG_LINE_CHARS}`;
  const bounded = JSON.stringify(kept);
  if (bounded.length <= MAX_LOG_LINE_CHARS) return `${bounded}\n`;
  return `${JSON.stringify({ level: fields.level, time: fields.time, name: fields.name, msg: cutText(String(fields.msg), 300), cut: kept.cut })}\n`;
}
