// CloudWatch Logs: what tasks whose container uses the awslogs driver print, by group and stream
// (`<awslogs-stream-prefix>/<container>/<task id>`, as ECS names them), read with GetLogEvents.
import { AwsError } from "./protocols.ts";

interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

/** Events a GetLogEvents page returns at most (AWS: up to 10,000 events or 1 MB). */
const PAGE = 10_000;

export class CloudWatchLogs {
  readonly #streams = new Map<string, LogEvent[]>();

  append(group: string, stream: string, message: string): void {
    const key = `${group}\0${stream}`;
    const events = this.#streams.get(key) ?? [];
    const now = Date.now();
    events.push({ timestamp: now, message, ingestionTime: now });
    this.#streams.set(key, events);
  }

  handlers() {
    return {
      GetLogEvents: (i: { logGroupName?: string; logStreamName?: string; startFromHead?: boolean; nextToken?: string; limit?: number }) => {
        if (!i.logGroupName || !i.logStreamName) throw new AwsError("InvalidParameterException", "logGroupName and logStreamName are required");
        const events = this.#streams.get(`${i.logGroupName}\0${i.logStreamName}`);
        if (!events) throw new AwsError("ResourceNotFoundException", "The specified log stream does not exist.");
        const limit = Math.min(i.limit ?? PAGE, PAGE);
        // Tokens are `f/<index>` (forward) and `b/<index>` (backward), opaque to the SDK as on AWS.
        const [direction, at] = (i.nextToken ?? "").split("/");
        const forward = i.nextToken ? direction === "f" : i.startFromHead === true;
        let start: number;
        if (i.nextToken) start = Number(at);
        else start = forward ? 0 : Math.max(0, events.length - limit);
        const page = events.slice(start, start + limit);
        const end = start + page.length;
        return {
          events: page,
          nextForwardToken: `f/${end}`,
          nextBackwardToken: `b/${start}`,
        };
      },
    };
  }
}
