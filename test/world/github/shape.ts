// Builds response bodies from GitHub's own response schemas: handlers give the fields that carry
// meaning (ids, names, state) and every other required field gets the simplest value its schema
// allows. So a handler cannot forget one of the ~80 required fields of a repository object.
import { resolveSchemaRef, responseSchema } from "../../support/openapi.ts";

type Json = Record<string, unknown>;

const EPOCH = "1970-01-01T00:00:00Z";

export function shapeResponse(method: string, url: string, status: number, data: unknown, baseUrl: string): unknown {
  const schema = responseSchema(method, url, status);
  return schema === undefined ? data : fill(schema, data, baseUrl);
}

function resolve(schema: unknown): Json {
  let node = schema as Json;
  while (typeof node.$ref === "string") node = resolveSchemaRef(node.$ref) as Json;
  return node;
}

function types(schema: Json): string[] {
  if (Array.isArray(schema.type)) return schema.type as string[];
  if (typeof schema.type === "string") return [schema.type];
  return schema.properties ? ["object"] : [];
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Whether `data` can be an instance of `schema`, judged by type and enum-valued properties. */
function compatible(schema: Json, data: unknown): boolean {
  const s = resolve(schema);
  if (s.anyOf || s.oneOf) return ((s.anyOf ?? s.oneOf) as Json[]).some((alt) => compatible(alt, data));
  const allowed = types(s);
  const actual = jsonType(data);
  const typeOk = allowed.length === 0 || allowed.includes(actual) || (actual === "number" && allowed.includes("integer"));
  if (!typeOk) return false;
  if (actual !== "object") return true;
  const props = (s.properties ?? {}) as Record<string, Json>;
  return Object.entries(data as Json).every(([key, value]) => {
    const prop = props[key] && resolve(props[key]);
    return !prop || !Array.isArray(prop.enum) || prop.enum.includes(value);
  });
}

function mergeAllOf(parts: Json[]): Json {
  const resolved = parts.map(resolve);
  return {
    type: "object",
    properties: Object.assign({}, ...resolved.map((p) => p.properties ?? {})) as Json,
    required: resolved.flatMap((p) => (p.required ?? []) as string[]),
  };
}

function fill(schema: unknown, data: unknown, baseUrl: string): unknown {
  const s = resolve(schema);
  if (Array.isArray(s.allOf)) return fill(mergeAllOf(s.allOf as Json[]), data, baseUrl);
  const alternatives = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (alternatives) {
    if (data === undefined && alternatives.some((alt) => types(resolve(alt)).includes("null"))) return null;
    const chosen = alternatives.find((alt) => data === undefined || compatible(alt, data)) ?? alternatives[0];
    return fill(chosen, data, baseUrl);
  }
  const allowed = types(s);
  if (data === undefined && allowed.includes("null")) return null;
  if (data === null) return null;
  if (allowed.includes("object")) return fillObject(s, data as Json | undefined, baseUrl);
  if (allowed.includes("array")) {
    return ((data ?? []) as unknown[]).map((item) => fill(s.items ?? {}, item, baseUrl));
  }
  if (data !== undefined) return data;
  if (Array.isArray(s.enum)) return s.enum[0];
  if (allowed.includes("integer") || allowed.includes("number")) return 0;
  if (allowed.includes("boolean")) return false;
  return defaultString(s.format, baseUrl);
}

function fillObject(schema: Json, data: Json | undefined, baseUrl: string): Json {
  const props = (schema.properties ?? {}) as Record<string, unknown>;
  const keys = new Set([...((schema.required ?? []) as string[]), ...Object.keys(data ?? {})]);
  const out: Json = {};
  for (const key of keys) {
    const value = data?.[key];
    out[key] = props[key] === undefined ? value : fill(props[key], value, baseUrl);
  }
  return out;
}

function defaultString(format: unknown, baseUrl: string): string {
  switch (format) {
    case "date-time":
      return EPOCH;
    case "date":
      return EPOCH.slice(0, 10);
    case "uri":
    case "uri-template":
      return `${baseUrl}/`;
    case "email":
      return "noreply@example.com";
    default:
      return "";
  }
}
