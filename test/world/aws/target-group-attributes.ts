// Target group attributes: stickiness (as AWS validates it) and the deregistration delay.
import { AwsError } from "./protocols.ts";
import type { Stickiness, TargetGroup } from "./targets.ts";
import type { Timing } from "./timing.ts";

const MAX_DURATION_SECONDS = 604_800;
/** AWS reserves these cookie names for its own stickiness. */
const RESERVED_COOKIES = /^(AWSALB|AWSALBAPP|AWSALBTG)/i;

export function describeGroupAttributes(group: TargetGroup, timing: Timing): { Key: string; Value: string }[] {
  const s = group.stickiness;
  return [
    { Key: "stickiness.enabled", Value: String(s.enabled) },
    { Key: "stickiness.type", Value: s.type },
    { Key: "stickiness.lb_cookie.duration_seconds", Value: String(s.lbCookieDurationSeconds) },
    { Key: "stickiness.app_cookie.cookie_name", Value: s.appCookieName ?? "" },
    { Key: "stickiness.app_cookie.duration_seconds", Value: String(s.appCookieDurationSeconds) },
    { Key: "deregistration_delay.timeout_seconds", Value: String(timing.awsSeconds(group.health.deregistrationDelayMs)) },
  ];
}

/** The group's stickiness after the change; throws, changing nothing, on what AWS refuses. */
export function modifyGroupAttributes(group: TargetGroup, attributes: { Key?: string; Value?: string }[]): Stickiness {
  const next: Stickiness = { ...group.stickiness };
  for (const { Key, Value = "" } of attributes) {
    switch (Key) {
      case "stickiness.enabled":
        if (Value !== "true" && Value !== "false") throw invalid(Key, Value, "true or false");
        next.enabled = Value === "true";
        break;
      case "stickiness.type":
        // source_ip and the others are Network and Gateway Load Balancer types.
        if (Value !== "lb_cookie" && Value !== "app_cookie") throw invalid(Key, Value, "lb_cookie or app_cookie for an Application Load Balancer");
        next.type = Value;
        break;
      case "stickiness.lb_cookie.duration_seconds":
        next.lbCookieDurationSeconds = duration(Key, Value);
        break;
      case "stickiness.app_cookie.duration_seconds":
        next.appCookieDurationSeconds = duration(Key, Value);
        break;
      case "stickiness.app_cookie.cookie_name":
        if (RESERVED_COOKIES.test(Value)) throw invalid(Key, Value, "a name that does not start with AWSALB, AWSALBAPP or AWSALBTG");
        next.appCookieName = Value || undefined;
        break;
      default:
        throw new AwsError("ValidationError", `Attribute '${Key}' is not supported by the emulator (stickiness.* only)`);
    }
  }
  if (next.enabled && next.type === "app_cookie" && !next.appCookieName) {
    throw new AwsError("ValidationError", "'stickiness.app_cookie.cookie_name' must be set when the stickiness type is app_cookie");
  }
  return next;
}

function duration(key: string, value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_DURATION_SECONDS) throw invalid(key, value, `an integer from 1 to ${MAX_DURATION_SECONDS}`);
  return seconds;
}

function invalid(key: string, value: string, expected: string): AwsError {
  return new AwsError("ValidationError", `'${value}' is not a valid value for '${key}': expected ${expected}`);
}
