import type { ApplicationFunction, Probot } from "probot";

/**
 * The events the app has handlers for, learnt as its function registers them, so the intake can
 * acknowledge any other event without storing or parsing it (GitHub sends an app some events it never
 * asked for, and check runs and suites arrive by the hundred on a busy repository).
 */
export class HandledEvents {
  readonly #names = new Set<string>();
  #all = false;

  /** Whether some handler takes `event` (the name GitHub sends in `X-GitHub-Event`). */
  has(event: string): boolean {
    return this.#all || this.#names.has(event);
  }

  /** `app`, recording the events it subscribes to with `on` (`onAny`: every event). */
  watch(app: ApplicationFunction): ApplicationFunction {
    return (probot, options) => app(this.#recording(probot), options);
  }

  #recording(probot: Probot): Probot {
    return new Proxy(probot, {
      get: (target, key) => {
        if (key === "on") {
          return (events: string | string[], handler: never) => {
            // "issue_comment.created" is delivered as event "issue_comment".
            for (const event of [events].flat()) this.#names.add(event.split(".")[0]!);
            return target.on(events as never, handler);
          };
        }
        if (key === "onAny") {
          return (handler: never) => {
            this.#all = true;
            return target.onAny(handler);
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}
