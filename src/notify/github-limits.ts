import { cutText } from "../log/bounded-log.ts";

/**
 * GitHub's sizes for what Gantry writes. GitHub answers 422 to a body over its limit and the write
 * is lost, so every write is fitted here first (the helpers in github-writes.ts take text only
 * through these functions).
 */
export const GITHUB_LIMITS = {
  /** Characters in an issue or pull request comment body. */
  commentBody: 65_536,
  /** Characters in a check run's `output.summary`, and again in `output.text`. */
  checkRunText: 65_535,
  /** Annotations per create or update request: more go in further updates of the same run. */
  annotationsPerRequest: 50,
  /** Characters in a Deployment status description. */
  deploymentStatusDescription: 140,
  /** Characters in a check run's `output.title` (GitHub shows a single short line). */
  checkRunTitle: 255,
} as const;

/**
 * Cuts a generated body to `max` characters: whole lines where possible, never a split character,
 * then a line saying how much was left out and `seeAllAt` (e.g. "in the [check run](…)").
 */
export function fitGeneratedText(body: string, max: number, seeAllAt: string): string {
  if (body.length <= max) return body;
  // Sized for the largest count it can state, so the result never exceeds `max`.
  const notice = (leftOut: number) => `\n\n*… ${leftOut.toLocaleString("en-US")} more characters left out to fit GitHub's limit; see all of it ${seeAllAt}.*`;
  const room = Math.max(0, max - notice(body.length).length);
  const lineEnd = body.lastIndexOf("\n", room);
  const kept = lineEnd >= room / 2 ? body.slice(0, lineEnd) : cutText(body, room);
  return `${kept}${notice(body.length - kept.length)}`.slice(0, max);
}

export interface CheckRunAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "notice" | "warning" | "failure";
  title?: string;
  message: string;
}

export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
  annotations?: CheckRunAnnotation[];
}

/**
 * A check run's output within GitHub's limits: title, summary and text cut, and the annotations in
 * batches of 50: the first batch goes with the create (or update) request, each further one in an
 * update of the same check run carrying the same title and summary, as GitHub documents.
 */
export function fitCheckRunOutput(output: CheckRunOutput, seeAllAt: string): { output: CheckRunOutput; laterAnnotations: CheckRunAnnotation[][] } {
  const fitted: CheckRunOutput = {
    title: cutText(output.title.replace(/\s+/gu, " "), GITHUB_LIMITS.checkRunTitle),
    summary: fitGeneratedText(output.summary, GITHUB_LIMITS.checkRunText, seeAllAt),
    ...(output.text === undefined ? {} : { text: fitGeneratedText(output.text, GITHUB_LIMITS.checkRunText, seeAllAt) }),
  };
  const annotations = (output.annotations ?? []).map((annotation) => ({
    ...annotation,
    message: cutText(annotation.message, GITHUB_LIMITS.checkRunText),
    ...(annotation.title === undefined ? {} : { title: cutText(annotation.title, GITHUB_LIMITS.checkRunTitle) }),
  }));
  const batches: CheckRunAnnotation[][] = [];
  for (let start = 0; start < annotations.length; start += GITHUB_LIMITS.annotationsPerRequest) {
    batches.push(annotations.slice(start, start + GITHUB_LIMITS.annotationsPerRequest));
  }
  const [first, ...later] = batches;
  return { output: first ? { ...fitted, annotations: first } : fitted, laterAnnotations: later };
}

export interface CommentText {
  body: string;
  /** Completes "see all of it …" when the body is cut. */
  seeAllAt: string;
  /** Kept whole after the (possibly cut) body, e.g. a hidden marker. */
  trailer?: string;
}

/** A comment body within GitHub's limit. */
export function fitCommentBody({ body, seeAllAt, trailer = "" }: CommentText): string {
  return `${fitGeneratedText(body, GITHUB_LIMITS.commentBody - trailer.length, seeAllAt)}${trailer}`;
}

/** A Deployment status description: one line, cut to GitHub's 140 characters. */
export function fitDeploymentStatusDescription(description: string): string {
  return cutText(description.replace(/\s+/gu, " ").trim(), GITHUB_LIMITS.deploymentStatusDescription);
}
