// The single HTTP endpoint the SDK clients talk to: picks the service by protocol, applies
// injected faults, and serves the fault-control API under /__emulator/.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { ActiveFault, FaultSpec, Faults } from "./faults.ts";
import type { RateLimits } from "./rate-limits.ts";
import { OBSERVER_ACCESS_KEY_ID } from "./sts.ts";
import { AwsError, JSON_TARGETS, parseQueryForm, QUERY_VERSIONS, sendJson, sendJsonError, sendQueryError, sendQueryXml, type ServiceName } from "./protocols.ts";

/** `caller` is the access key that signed the request. */
type Handler = (input: never, caller: string) => unknown;

/** Returns the caller's access key, or throws AccessDenied for a call its identity may not make. */
export type Authorise = (service: ServiceName, operation: string, headers: IncomingMessage["headers"]) => string;

export type ServiceHandlers = Record<ServiceName, Record<string, Handler>>;

const THROTTLE_CODE: Record<ServiceName, string> = { ecs: "ThrottlingException", ecr: "ThrottlingException", codebuild: "ThrottlingException", elbv2: "Throttling", cloudwatch: "Throttling", sts: "Throttling", logs: "ThrottlingException" };
// ECS and ECR model a ServerException; the Query-style services answer InternalFailure.
const SERVER_ERROR_CODE: Record<ServiceName, string> = { ecs: "ServerException", ecr: "ServerException", codebuild: "InternalFailure", elbv2: "InternalFailure", cloudwatch: "InternalFailure", sts: "InternalFailure", logs: "ServiceUnavailableException" };

/** An operation the emulator carried out (faulted and failed calls are not recorded). */
export interface EmulatedCall {
  service: ServiceName;
  operation: string;
  input: unknown;
}

export function createEmulatorServer(
  handlers: ServiceHandlers,
  faults: Faults,
  calls: EmulatedCall[],
  authorise: Authorise,
  limits?: RateLimits,
): Server {
  return createServer((req, res) => {
    readBody(req)
      .then((body) => dispatch(req, res, body, handlers, faults, calls, authorise, limits))
      .catch(() => res.destroy());
  });
}

async function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  handlers: ServiceHandlers,
  faults: Faults,
  calls: EmulatedCall[],
  authorise: Authorise,
  limits: RateLimits | undefined,
): Promise<void> {
  if (req.url?.startsWith("/__emulator/faults")) return faultApi(req, res, body, faults);

  const target = req.headers["x-amz-target"];
  let service: ServiceName;
  let operation: string;
  let input: unknown;
  if (typeof target === "string") {
    const [prefix = "", op = ""] = target.split(".");
    const found = JSON_TARGETS[prefix];
    if (!found) return void res.writeHead(400).end(`unknown X-Amz-Target ${target}`);
    service = found;
    operation = op;
    try {
      input = JSON.parse(body || "{}");
    } catch {
      return sendJsonError(res, service, new AwsError("SerializationException", "Request body is not valid JSON"));
    }
  } else {
    const params = parseQueryForm(body);
    const found = QUERY_VERSIONS[String(params.Version)];
    if (!found) return sendQueryError(res, "elbv2", new AwsError("InvalidAction", "Only ELBv2 (Version 2015-12-01) and STS (2011-06-15) speak the Query protocol here"));
    service = found;
    operation = String(params.Action ?? "");
    input = params;
  }

  const fail = (err: AwsError) => (service === "elbv2" || service === "sts" ? sendQueryError(res, service, err) : sendJsonError(res, service, err));
  let caller: string;
  try {
    caller = authorise(service, operation, req.headers);
  } catch (err) {
    if (err instanceof AwsError) return fail(err);
    throw err;
  }
  for (const fault of faults.take(service, operation)) {
    const outcome = await applyFault(fault, service, req);
    if (outcome === "dropped") return;
    if (outcome) return fail(outcome);
  }

  const observing = caller === OBSERVER_ACCESS_KEY_ID;
  // As on AWS, a throttled call is refused before it is carried out, and costs no token of its own.
  if (limits && !observing && !limits.take(service, operation)) return fail(new AwsError(THROTTLE_CODE[service], "Rate exceeded", 400));

  const handler = handlers[service][operation];
  if (!handler) return fail(new AwsError(service === "elbv2" ? "InvalidAction" : "UnknownOperationException", `${operation} is not emulated`));
  try {
    const result = await (handler as (i: unknown, c: string) => unknown)(input, caller);
    if (!observing) calls.push({ service, operation, input });
    if (service === "elbv2" || service === "sts") sendQueryXml(res, service, operation, result as Record<string, unknown>);
    else sendJson(res, service, result);
  } catch (err) {
    if (err instanceof AwsError) return fail(err);
    console.error(`aws emulator: ${service}.${operation} failed`, err);
    fail(new AwsError(SERVER_ERROR_CODE[service], String(err), 500));
  }
}

/** Undefined = go on to the real handler. */
async function applyFault(fault: ActiveFault, service: ServiceName, req: IncomingMessage): Promise<AwsError | "dropped" | undefined> {
  switch (fault.kind) {
    case "latency":
      await sleep(fault.latencyMs ?? 0);
      return undefined;
    case "throttle":
      return new AwsError(THROTTLE_CODE[service], "Rate exceeded", 400);
    case "error5xx":
      return new AwsError(SERVER_ERROR_CODE[service], "Injected server error", 500);
    case "drop":
      req.socket.destroy();
      return "dropped";
  }
}

function faultApi(req: IncomingMessage, res: ServerResponse, body: string, faults: Faults): void {
  const reply = (status: number, value: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
  };
  const id = /^\/__emulator\/faults\/(\d+)$/.exec(req.url ?? "")?.[1];
  try {
    if (req.method === "GET") return reply(200, { faults: faults.list() });
    if (req.method === "POST") return reply(201, { id: faults.add(JSON.parse(body) as FaultSpec) });
    if (req.method === "DELETE" && id) {
      faults.remove(Number(id));
      return reply(200, {});
    }
    if (req.method === "DELETE") {
      faults.clear();
      return reply(200, {});
    }
    reply(405, { message: "use GET, POST or DELETE" });
  } catch (err) {
    reply(400, { message: err instanceof Error ? err.message : String(err) });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
