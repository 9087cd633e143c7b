// GitHub's own OpenAPI description (@octokit/openapi) as a contract for requests we send to GitHub
// and responses our emulator returns. The 13 MB non-dereferenced file is loaded once per process,
// on first use; ajv resolves `$ref`s into components itself and validators are compiled per
// operation on demand, so a test pays only for the operations it touches.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS with `exports.default`; under nodenext its default import is the module.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

type Json = Record<string, unknown>;

export interface Operation {
  /** Lower-case HTTP method. */
  method: string;
  /** The documented path template, e.g. `/repos/{owner}/{repo}/check-runs`. */
  template: string;
  operationId: string;
  /** Path parameters taken from the concrete path, URL-decoded. */
  params: Record<string, string>;
}

interface Route {
  template: string;
  segments: string[];
  /** A trailing `{path}` / `{ref}` may span several segments (`contents/a/b.yml`) or none. */
  greedyTail: boolean;
}

interface Spec {
  paths: Record<string, Record<string, Json>>;
  components: Record<string, Record<string, Json>>;
}

interface Loaded {
  spec: Spec;
  ajv: Ajv;
  routes: Map<string, Route[]>;
  validators: Map<string, ValidateFunction>;
}

const SPEC_ID = "github-openapi";
const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);
const GREEDY_PARAMS = new Set(["{path}", "{ref}"]);

let loaded: Loaded | undefined;

function load(): Loaded {
  if (loaded) return loaded;
  const file = createRequire(import.meta.url).resolve("@octokit/openapi/generated/api.github.com.json");
  const spec = JSON.parse(readFileSync(file, "utf8")) as Spec;
  fixNullable(spec);
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  // OpenAPI's numeric and GitHub-specific formats carry no constraint ajv can check.
  for (const format of ["int32", "int64", "double", "float", "binary", "byte", "repo.nwo", "timestamp"]) {
    ajv.addFormat(format, true);
  }
  ajv.addSchema(spec as unknown as Json, SPEC_ID);
  const routes = new Map<string, Route[]>();
  for (const [template, item] of Object.entries(spec.paths)) {
    const segments = template.split("/").slice(1);
    const route = { template, segments, greedyTail: GREEDY_PARAMS.has(segments.at(-1) ?? "") };
    for (const method of Object.keys(item).filter((m) => METHODS.has(m))) {
      routes.set(method, [...(routes.get(method) ?? []), route]);
    }
  }
  loaded = { spec, ajv, routes, validators: new Map() };
  return loaded;
}

/**
 * OpenAPI 3.0 `nullable: true` → JSON Schema `null` alternatives. ajv's own `nullable` support
 * rejects `nullable` without `type` and does not widen an `enum`, both of which GitHub's spec has.
 */
function fixNullable(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) fixNullable(item);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const schema = node as Json;
  for (const [key, value] of Object.entries(schema)) {
    if (key !== "example" && key !== "examples") fixNullable(value);
  }
  if (!("nullable" in schema) || typeof schema.nullable !== "boolean") return;
  const nullable = schema.nullable;
  delete schema.nullable;
  if (!nullable) return;
  if (typeof schema.type === "string") {
    schema.type = [schema.type, "null"];
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
    return;
  }
  const rest = { ...schema };
  for (const key of Object.keys(schema)) delete schema[key];
  schema.anyOf = [rest, { type: "null" }];
}

function splitUrl(url: string): string[] {
  return new URL(url, "https://api.github.com").pathname.split("/").slice(1);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const isParam = (segment: string): boolean => segment.startsWith("{") && segment.endsWith("}");

/** Matches the concrete segments against a route; returns which positions matched literally. */
function match(route: Route, segments: string[]): boolean[] | undefined {
  const exact = route.segments.length === segments.length;
  if (!exact && !(route.greedyTail && segments.length >= route.segments.length - 1)) return undefined;
  const literal: boolean[] = [];
  for (const [i, expected] of route.segments.entries()) {
    const actual = segments[i];
    // Only a trailing {path}/{ref} may be empty or absent: Octokit sends `contents` for the root.
    const emptyOk = route.greedyTail && i === route.segments.length - 1;
    if ((actual === undefined || actual === "") && !emptyOk) return undefined;
    if (isParam(expected)) literal.push(false);
    else if (decode(actual ?? "") === expected) literal.push(true);
    else return undefined;
  }
  return literal;
}

/** Literal segments beat templates, earliest position first; exact length beats a greedy tail. */
function better(a: { literal: boolean[]; exact: boolean }, b: { literal: boolean[]; exact: boolean }): boolean {
  if (a.exact !== b.exact) return a.exact;
  for (let i = 0; i < Math.min(a.literal.length, b.literal.length); i++) {
    if (a.literal[i] !== b.literal[i]) return a.literal[i] === true;
  }
  return false;
}

function findRoute(method: string, url: string): { route: Route; segments: string[] } | undefined {
  const segments = splitUrl(url);
  const found = bestRoute(method, segments);
  // Otherwise a trailing slash is not significant.
  return found ?? (segments.at(-1) === "" ? bestRoute(method, segments.slice(0, -1)) : undefined);
}

function bestRoute(method: string, segments: string[]): { route: Route; segments: string[] } | undefined {
  let best: { route: Route; literal: boolean[]; exact: boolean } | undefined;
  for (const route of load().routes.get(method.toLowerCase()) ?? []) {
    const literal = match(route, segments);
    if (!literal) continue;
    const candidate = { route, literal, exact: route.segments.length === segments.length };
    if (!best || better(candidate, best)) best = candidate;
  }
  return best && { route: best.route, segments };
}

export function findOperation(method: string, path: string): Operation | undefined {
  const found = findRoute(method, path);
  if (!found) return undefined;
  const { route, segments } = found;
  const params: Record<string, string> = {};
  for (const [i, name] of route.segments.entries()) {
    if (!isParam(name)) continue;
    const tail = route.greedyTail && i === route.segments.length - 1;
    const value = tail ? segments.slice(i).map(decode).join("/") : decode(segments[i] ?? "");
    params[name.slice(1, -1)] = value;
  }
  const m = method.toLowerCase();
  const operation = load().spec.paths[route.template]?.[m] ?? {};
  return { method: m, template: route.template, operationId: String(operation.operationId), params };
}

function operationObject(op: Operation): Json {
  return load().spec.paths[op.template]?.[op.method] ?? {};
}

/** Follows a `#/components/...` reference at the OpenAPI (non-schema) level. */
function deref(node: unknown): Json | undefined {
  if (node === null || typeof node !== "object") return undefined;
  const ref = (node as Json).$ref;
  if (typeof ref !== "string") return node as Json;
  const [, , kind, name] = ref.split("/");
  return deref(load().spec.components[kind ?? ""]?.[name ?? ""]);
}

const escapePointer = (s: string): string => s.replaceAll("~", "~0").replaceAll("/", "~1");

function validatorAt(pointer: string[]): ValidateFunction {
  const key = `${SPEC_ID}#/${pointer.map(escapePointer).join("/")}`;
  const { ajv, validators } = load();
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile({ $ref: key });
    validators.set(key, validate);
  }
  return validate;
}

function describeErrors(where: string, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra = e.keyword === "enum" ? ` (${JSON.stringify(e.params.allowedValues)})` : "";
    const additional = e.keyword === "additionalProperties" ? ` (${String(e.params.additionalProperty)})` : "";
    return `${where} ${e.instancePath || "/"} ${e.message ?? e.keyword}${extra}${additional}`;
  });
}

/** The JSON media type of a content map, e.g. `application/json` or `application/scim+json`. */
function jsonMediaType(content: unknown): string | undefined {
  if (content === null || typeof content !== "object") return undefined;
  return Object.keys(content).find((type) => /^application\/([\w.+-]+\+)?json$/.test(type));
}

function parseBody(body: unknown): { value: unknown } | { error: string } {
  if (typeof body !== "string") return { value: body };
  if (body === "") return { value: undefined };
  try {
    return { value: JSON.parse(body) };
  } catch {
    return { error: "is not JSON" };
  }
}

function parseBodyValue(body: unknown): unknown {
  const parsed = parseBody(body);
  return "value" in parsed ? parsed.value : body;
}

function pathParamErrors(op: Operation, label: string): string[] {
  const errors: string[] = [];
  for (const raw of (operationObject(op).parameters as unknown[] | undefined) ?? []) {
    const param = deref(raw);
    if (!param || param.in !== "path") continue;
    const type = (param.schema as Json | undefined)?.type;
    const value = op.params[String(param.name)];
    if (type === "integer" && !/^\d+$/.test(value ?? "")) {
      errors.push(`${label}: path parameter ${String(param.name)}=${JSON.stringify(value)} is not an integer`);
    }
  }
  return errors;
}

/** [] when `method url` is a documented GitHub operation and a JSON `body` fits its request schema. */
export function checkRequest(method: string, url: string, body: unknown): string[] {
  const label = `${method.toUpperCase()} ${new URL(url, "https://api.github.com").pathname}`;
  const op = findOperation(method, url);
  if (!op) return [`${label}: not a documented GitHub REST operation`];
  const where = `${label} (${op.operationId})`;
  const errors = pathParamErrors(op, where);
  const parsed = parseBody(body);
  const requestBody = deref(operationObject(op).requestBody);
  const mediaType = jsonMediaType(requestBody?.content);
  if ("error" in parsed) {
    if (mediaType) errors.push(`${where}: request body ${parsed.error}`);
    return errors;
  }
  const value = parsed.value;
  const empty = value === undefined || value === null;
  if (!requestBody) {
    const hasContent = !empty && !(typeof value === "object" && Object.keys(value).length === 0);
    if (hasContent) errors.push(`${where}: operation takes no request body`);
    return errors;
  }
  if (empty) {
    if (requestBody.required === true) errors.push(`${where}: request body is required`);
    return errors;
  }
  if (!mediaType) return errors;
  const path = ["paths", op.template, op.method, "requestBody", "content", mediaType, "schema"];
  // A requestBody given by $ref would need a different pointer; GitHub's spec inlines them all.
  const validate = validatorAt(path);
  if (!validate(value)) errors.push(...describeErrors(`${where}: request body`, validate.errors));
  return errors;
}

/** [] when `status` is documented for the operation and `body` validates against that response. */
export function checkResponse(method: string, url: string, status: number, body: unknown): string[] {
  const label = `${method.toUpperCase()} ${new URL(url, "https://api.github.com").pathname}`;
  const op = findOperation(method, url);
  if (!op) return [`${label}: not a documented GitHub REST operation`];
  const where = `${label} (${op.operationId}) ${status}`;
  const responses = (operationObject(op).responses ?? {}) as Json;
  const key = [String(status), `${String(status)[0]}XX`, "default"].find((k) => k in responses);
  if (!key) {
    if (status < 400) return [`${where}: status not documented (documented: ${Object.keys(responses).join(", ")})`];
    return standardErrorProblems(where, status, body);
  }
  const response = deref(responses[key]);
  const mediaType = jsonMediaType(response?.content);
  const parsed = parseBody(body);
  if ("error" in parsed) return mediaType ? [`${where}: response body ${parsed.error}`] : [];
  if (!mediaType) {
    if (parsed.value === undefined || response?.content) return [];
    // Some error responses are documented without content, yet GitHub sends its error body there.
    return status >= 400 ? standardErrorProblems(where, status, body) : [`${where}: response documents no body`];
  }
  const pointer = responseSchemaPointer(op, key, responses[key], mediaType);
  const validate = validatorAt(pointer);
  return validate(parsed.value) ? [] : describeErrors(`${where}: response body`, validate.errors);
}

/**
 * GitHub answers any operation with 401/403/404/5xx (and 422 on bad input) in its standard error
 * shapes, though the description lists them only where they are likely.
 */
function standardErrorProblems(where: string, status: number, body: unknown): string[] {
  const name = status === 422 ? "validation-error" : "basic-error";
  const value = parseBodyValue(body);
  const validate = validatorAt(["components", "schemas", name]);
  if (!validate(value)) return describeErrors(`${where}: error body (${name})`, validate.errors);
  // basic-error lists no required properties; real GitHub errors always carry a message.
  const message = (value as { message?: unknown } | null)?.message;
  return typeof message === "string" ? [] : [`${where}: error body has no string message`];
}

/** The schema of a documented JSON response (its `$ref`s unresolved; see `resolveSchemaRef`). */
export function responseSchema(method: string, url: string, status: number): unknown {
  const op = findOperation(method, url);
  const raw = op && (operationObject(op).responses as Json | undefined)?.[String(status)];
  const content = deref(raw)?.content as Record<string, Json> | undefined;
  const mediaType = jsonMediaType(content);
  return mediaType ? content?.[mediaType]?.schema : undefined;
}

/** Follows a schema `$ref` such as `#/components/schemas/check-run` within the description. */
export function resolveSchemaRef(ref: string): unknown {
  let node: unknown = load().spec;
  for (const part of ref.slice(2).split("/")) {
    node = (node as Json | undefined)?.[part.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  return node;
}

/** JSON pointer to a response's schema, through a `#/components/responses/...` reference if any. */
function responseSchemaPointer(op: Operation, key: string, raw: unknown, mediaType: string): string[] {
  const ref = (raw as Json).$ref;
  const base =
    typeof ref === "string" ? ref.slice(2).split("/") : ["paths", op.template, op.method, "responses", key];
  return [...base, "content", mediaType, "schema"];
}
