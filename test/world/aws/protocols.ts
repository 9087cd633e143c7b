// Wire formats of the seven services: AWS JSON 1.1 (ECS, ECR, CloudWatch Logs, CodeBuild), AWS JSON 1.0 with query
// compatibility (CloudWatch) and the Query protocol with XML responses (ELBv2, STS).
import type { ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";

export type ServiceName = "ecs" | "ecr" | "elbv2" | "cloudwatch" | "sts" | "logs" | "codebuild";

/** The services that speak the Query protocol, by the `Version` their requests carry. */
export const QUERY_VERSIONS: Record<string, "elbv2" | "sts"> = { "2015-12-01": "elbv2", "2011-06-15": "sts" };

const XMLNS: Record<"elbv2" | "sts", string> = {
  elbv2: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
  sts: "https://sts.amazonaws.com/doc/2011-06-15/",
};

/** An error the SDK turns into a named exception. `code` is the wire code. */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export const JSON_TARGETS: Record<string, ServiceName> = {
  AmazonEC2ContainerServiceV20141113: "ecs",
  AmazonEC2ContainerRegistry_V20150921: "ecr",
  GraniteServiceVersion20100801: "cloudwatch",
  Logs_20140328: "logs",
  CodeBuild_20161006: "codebuild",
};

export function sendJson(res: ServerResponse, service: ServiceName, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    "content-type": service === "cloudwatch" ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1",
    "x-amzn-requestid": randomUUID(),
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendJsonError(res: ServerResponse, service: ServiceName, err: AwsError): void {
  const headers: Record<string, string | number> = {
    "content-type": service === "cloudwatch" ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1",
    "x-amzn-requestid": randomUUID(),
  };
  // Query-compatible services carry the Query error code in this header; the SDK maps it to the modeled exception.
  if (service === "cloudwatch") headers["x-amzn-query-error"] = `${err.code};${err.status >= 500 ? "Receiver" : "Sender"}`;
  const text = JSON.stringify({ __type: err.code, message: err.message });
  headers["content-length"] = Buffer.byteLength(text);
  res.writeHead(err.status, headers);
  res.end(text);
}

/** Query-protocol form body to a nested object; `X.member.N` becomes an array. */
export function parseQueryForm(body: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const parts = key.split(".");
    let node: Record<string, unknown> = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = value;
      else node = (node[part] ??= {}) as Record<string, unknown>;
    });
  }
  return listify(root) as Record<string, unknown>;
}

function listify(node: unknown): unknown {
  if (typeof node !== "object" || node === null) return node;
  const obj = node as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === "member") {
    const members = obj.member;
    // An empty list is sent as `X=` (a string), members as `X.member.N`.
    if (typeof members !== "object" || members === null) return [];
    return Object.entries(members as Record<string, unknown>)
      .toSorted(([a], [b]) => Number(a) - Number(b))
      .map(([, v]) => listify(v));
  }
  if (keys.length === 0) return obj;
  return Object.fromEntries(keys.map((k) => [k, listify(obj[k])]));
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function toXml(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join("");
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join("");
  }
  return escapeXml(String(value));
}

export function sendQueryXml(res: ServerResponse, service: "elbv2" | "sts", action: string, result: Record<string, unknown>): void {
  const requestId = randomUUID();
  const text =
    `<${action}Response xmlns="${XMLNS[service]}"><${action}Result>${toXml(result)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  res.writeHead(200, { "content-type": "text/xml", "x-amzn-requestid": requestId, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendQueryError(res: ServerResponse, service: "elbv2" | "sts", err: AwsError): void {
  const requestId = randomUUID();
  const type = err.status >= 500 ? "Receiver" : "Sender";
  const text =
    `<ErrorResponse xmlns="${XMLNS[service]}"><Error><Type>${type}</Type><Code>${escapeXml(err.code)}</Code>` +
    `<Message>${escapeXml(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  res.writeHead(err.status, { "content-type": "text/xml", "x-amzn-requestid": requestId, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Epoch seconds, the JSON protocols' timestamp format. */
export function epochSeconds(d: Date): number {
  return d.getTime() / 1000;
}
